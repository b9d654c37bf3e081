// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { makeBuckets, bucketIndex, resolutionFor, EventStore } from '../../src/metrics/index.js'

const Z = (iso) => Date.parse(iso)
const bucketsOf = (from, to, resolution, zone) => {
  const { bounds, labels } = makeBuckets(Z(from), Z(to), resolution, zone)
  return labels.map((label, i) => [label, new Date(bounds[i]).toISOString(), (bounds[i + 1] - bounds[i]) / 3600000])
}

test('days across the start of summer time (Europe/Berlin)', () => {
  assert.deepEqual(bucketsOf('2026-03-28T10:00:00Z', '2026-03-31T00:00:00Z', 'days', 'Europe/Berlin'), [
    ['2026-03-28', '2026-03-27T23:00:00.000Z', 24],
    ['2026-03-29', '2026-03-28T23:00:00.000Z', 23],
    ['2026-03-30', '2026-03-29T22:00:00.000Z', 24],
    ['2026-03-31', '2026-03-30T22:00:00.000Z', 24] // to lies 2 hours into 03-31 local
  ])
})

test('hours across the end of summer time repeat the local hour', () => {
  assert.deepEqual(bucketsOf('2026-10-24T23:30:00Z', '2026-10-25T02:00:00Z', 'hours', 'Europe/Berlin'), [
    ['2026-10-25T01', '2026-10-24T23:00:00.000Z', 1],
    ['2026-10-25T02', '2026-10-25T00:00:00.000Z', 1],
    ['2026-10-25T02', '2026-10-25T01:00:00.000Z', 1]
  ])
})

test('hours in a half-hour zone start at half past in UTC', () => {
  assert.deepEqual(bucketsOf('2026-11-22T00:00:00Z', '2026-11-22T02:00:00Z', 'hours', 'Asia/Kolkata'), [
    ['2026-11-22T05', '2026-11-21T23:30:00.000Z', 1],
    ['2026-11-22T06', '2026-11-22T00:30:00.000Z', 1],
    ['2026-11-22T07', '2026-11-22T01:30:00.000Z', 1]
  ])
})

test('weeks start on Monday', () => {
  assert.deepEqual(bucketsOf('2026-11-18T12:00:00Z', '2026-11-30T00:00:00Z', 'weeks', 'UTC'), [
    ['2026-11-16', '2026-11-16T00:00:00.000Z', 168],
    ['2026-11-23', '2026-11-23T00:00:00.000Z', 168]
  ])
})

test('months in New York across the start of summer time', () => {
  assert.deepEqual(bucketsOf('2026-01-15T00:00:00Z', '2026-03-10T00:00:00Z', 'months', 'America/New_York').map(b => b.slice(0, 2)), [
    ['2026-01', '2026-01-01T05:00:00.000Z'],
    ['2026-02', '2026-02-01T05:00:00.000Z'],
    ['2026-03', '2026-03-01T05:00:00.000Z']
  ])
  const { bounds } = makeBuckets(Z('2026-03-02T00:00:00Z'), Z('2026-03-10T00:00:00Z'), 'months', 'America/New_York')
  assert.equal(new Date(bounds[1]).toISOString(), '2026-04-01T04:00:00.000Z')
})

test('empty and reversed ranges have no buckets', () => {
  assert.deepEqual(makeBuckets(5, 5, 'days', 'UTC').labels, [])
  assert.deepEqual(makeBuckets(9, 5, 'days', 'UTC').labels, [])
  assert.throws(() => makeBuckets(0, 1, 'years', 'UTC'), /unknown resolution/)
})

test('bucketIndex', () => {
  const bounds = Float64Array.from([10, 20, 30])
  assert.deepEqual([9, 10, 19, 20, 29, 30].map(t => bucketIndex(bounds, t)), [-1, 0, 0, 1, 1, -1])
})

test('events are bucketed by the local day of the given time zone', () => {
  const store = new EventStore()
  store.add([{
    eventId: '01KAEGP0000000000000000001',
    secretId: 's',
    keyId: 'k',
    payload: { v: 1, type: 'PAGEVIEW', href: 'https://example.com/', referrer: '', pageload: null, timestamp: '2026-11-10T23:30:00.000Z', sessionId: 'x', geo: null, isMobile: false }
  }])
  const q = { from: Z('2026-11-09T00:00:00Z'), to: Z('2026-11-12T00:00:00Z'), resolution: 'days', now: Z('2026-11-20T00:00:00Z') }
  const day = (timeZone) => store.query({ ...q, timeZone }).buckets.find(b => b.pageViews === 1).label
  assert.equal(day('UTC'), '2026-11-10')
  assert.equal(day('Europe/Berlin'), '2026-11-11')
  assert.equal(day('America/New_York'), '2026-11-10')
})

test('resolutionFor fits the ranges of the dashboard', () => {
  const day = 24 * 3600 * 1000
  assert.deepEqual([1, 2, 7, 30, 42, 84, 186, 400].map(d => resolutionFor(0, d * day)),
    ['hours', 'hours', 'days', 'days', 'days', 'weeks', 'weeks', 'months'])
})
