// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The JSON API client (PROTOCOL §7.1): same-origin credentials, JSON bodies, errors as
// ApiError carrying the server's {error, status, fields}. A 401 on a session route calls
// onUnauthorized (the session service then forgets the login), except for requests that
// expect it (login itself, re-authentication), which pass {expect401: true}.

export class ApiError extends Error {
  constructor (status, message, fields, retryAfter) {
    super(message || `request failed (${status})`)
    this.name = 'ApiError'
    this.status = status // 0 for network failures
    this.fields = fields || null
    this.retryAfter = retryAfter || null // seconds, on 429
  }
}

/**
 * createApi({fetch, onUnauthorized}) returns {request, get, post, put, del}. request(method,
 * path, body, options) resolves with the decoded JSON body, or null for 204 and empty
 * bodies; options.raw resolves with the Response instead (for streamed bodies such as
 * GET /api/events/export).
 */
export function createApi ({ fetch: fetchFn = (...a) => globalThis.fetch(...a), onUnauthorized = () => {} } = {}) {
  async function request (method, path, body, options = {}) {
    const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' }, signal: options.signal }
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json'
      init.body = JSON.stringify(body)
    }
    let res
    try {
      res = await fetchFn(path, init)
    } catch (err) {
      if (err && err.name === 'AbortError') throw err
      throw new ApiError(0, 'network error')
    }
    if (!res.ok) {
      let payload = {}
      try {
        payload = await res.json()
      } catch {}
      const retry = Number(res.headers && res.headers.get && res.headers.get('Retry-After')) || null
      const err = new ApiError(res.status, payload && payload.error, payload && payload.fields, retry)
      if (res.status === 401 && !options.expect401) onUnauthorized(err)
      throw err
    }
    if (options.raw) return res
    if (res.status === 204) return null
    const text = await res.text()
    return text === '' ? null : JSON.parse(text)
  }
  return {
    request,
    get: (path, options) => request('GET', path, undefined, options),
    post: (path, body = {}, options) => request('POST', path, body, options),
    put: (path, body = {}, options) => request('PUT', path, body, options),
    // Every DELETE carries a JSON body too: the CSRF rule of PROTOCOL §7.1 wants the JSON
    // content type on every POST, PUT and DELETE.
    del: (path, options) => request('DELETE', path, {}, options)
  }
}
