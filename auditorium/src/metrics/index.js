// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The computation core of the auditorium: every metric of PRODUCT.md §5 and §7b. See README.md.

export { EventStore } from './store.js'
export { MetricsClient, shardOf } from './client.js'
export { createShard } from './shard.js'
export { computeMetrics, computePartial, parseRecords } from './reference.js'
export { emptyPartial, finalize, mergePartials, normalizeQuery, normalizeGoals, normalizeFunnels, FILTERS, SESSION_FILTERS, REALTIME_WINDOW, RETENTION_WEEKS } from './aggregate.js'
export { makeBuckets, bucketIndex, localTimeZone, resolutionFor, RESOLUTIONS } from './time.js'
export { pageKey, pageInfo, pathMatcher, referrerGroup, referrerLabel, utmValues, validatePayload, validProps, IGNORED } from './normalize.js'
export { funnelProgress, stepTest, KIND } from './steps.js'
