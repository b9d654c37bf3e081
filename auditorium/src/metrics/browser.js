// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The browser's way to the metrics workers: build.mjs bundles worker.js on its own and
// defines __OFFEN_METRICS_WORKER__ as its content-hashed URL.

import { MetricsClient } from './client.js'

/* global __OFFEN_METRICS_WORKER__ */

/** metricsWorkerUrl is the URL of the built worker bundle. */
export function metricsWorkerUrl () {
  if (typeof __OFFEN_METRICS_WORKER__ === 'string') return __OFFEN_METRICS_WORKER__
  throw new Error('metrics: worker URL unknown (build with build.mjs)')
}

/**
 * createMetricsClient starts navigator.hardwareConcurrency metrics workers (or `workers`)
 * and returns their MetricsClient (client.js).
 */
export function createMetricsClient ({ workers } = {}) {
  const url = metricsWorkerUrl()
  return new MetricsClient({ workers, createWorker: () => new Worker(url, { name: 'offen-metrics' }) })
}
