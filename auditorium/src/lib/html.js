// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// htm bound to Preact: every component writes html`<div>…</div>` instead of JSX, so the
// sources run unbundled in node tests and need no JSX transform.

import { h } from 'preact'
import htm from 'htm'

export const html = htm.bind(h)
