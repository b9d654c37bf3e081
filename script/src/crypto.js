// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The one JavaScript crypto module lives in keys/js; script/ reaches it through this file.
export * from '../../keys/js/crypto.js'
