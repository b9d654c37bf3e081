// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// What browser.test.js loads into the page (bundled by esbuild on the fly).
export { MetricsClient, computeMetrics } from '../../src/metrics/index.js'
export { encryptEvent, generateUserSecret } from '../../../keys/js/crypto.js'
export { generate } from './gen.js'
