// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Starts the dashboard's metrics workers (worker.js, built by build.mjs into a hashed file
// whose URL is defined as __OFFEN_DASHBOARD_WORKER__): navigator.hardwareConcurrency shards.

import { MetricsClient } from '../metrics/client.js'

/* global __OFFEN_DASHBOARD_WORKER__ */

/** createDashboardMetrics returns a MetricsClient over the dashboard workers. */
export function createDashboardMetrics ({ workers } = {}) {
  if (typeof __OFFEN_DASHBOARD_WORKER__ !== 'string') throw new Error('dashboard: worker URL unknown (build with build.mjs)')
  const url = __OFFEN_DASHBOARD_WORKER__
  return new MetricsClient({ workers, createWorker: () => new Worker(url, { name: 'offen-dashboard' }) })
}
