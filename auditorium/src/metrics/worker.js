// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Entry point of a metrics Web Worker: one shard (shard.js) behind postMessage. Replies are
// posted in the order their requests finish; the client matches them by id.

import { decryptEvent, decryptEvents, importAesKey, unwrapUserSecret } from '../../../keys/js/crypto.js'
import { createShard } from './shard.js'

const shard = createShard({ decrypt: decryptEvent, decryptMany: decryptEvents, importKey: importAesKey, unwrap: unwrapUserSecret })

self.onmessage = async (event) => {
  const { transfer, ...reply } = await shard.handle(event.data)
  self.postMessage(reply, transfer || [])
}
