// The node's live dashboard: plain DOM + SVG, no framework, no build step, nothing fetched from elsewhere.
// It uses only the node's public API: WebSocket subscriptions (`miniBlocks`, `newHeads`) for the live
// chain, and JSON-RPC polling (every 2 s) for node status (`mega_nodeInfo`), L1 (`optimism_syncStatus`).
// Every string from the node is written with textContent (never parsed as HTML).

const RPC_URL = `${location.origin}/`
const WS_URL = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`
const POLL_MS = 2_000
const RENDER_MS = 500
const RATE_WINDOW_MS = 5_000
const CHART_SECONDS = 60
const KEEP_INTERVALS = 2_000
const LIST_MINI = 12
const LIST_BLOCKS = 10
const LIST_TXS = 16
/** Upper bounds (ms) of the interval histogram's buckets; the last one is open. */
const BUCKETS = [5, 8, 10, 12, 15, 20, 30, 50, 100, Number.POSITIVE_INFINITY]

const state = {
  /** Per wall-clock second: transactions, mini-blocks and gas seen in mini-blocks received then. */
  seconds: new Map(),
  /** Recent mini-block intervals in ms, from the mini-blocks' own timestamps (µs). */
  intervals: [],
  lastMiniTimestampUs: undefined,
  lastMiniNumber: undefined,
  firstMiniAt: undefined,
  miniBlocks: [],
  blocks: [],
  txs: [],
  head: undefined,
  headSeenAt: undefined,
  info: undefined,
  sync: undefined,
  syncError: undefined,
  subscriptions: 'connecting',
  selected: undefined,
  /** While the pointer is over the transactions, that list holds still so a row can be clicked. */
  holdTxs: false,
  dirty: true,
}

const $ = (id) => document.getElementById(id)

// --- JSON-RPC over HTTP ---------------------------------------------------------------------------

let nextId = 1

class RpcCallError extends Error {
  constructor(method, error) {
    super(`${method}: ${error.message}`)
    this.code = error.code
    this.rpcMessage = error.message
  }
}

async function rpc(method, params = []) {
  const response = await fetch(RPC_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
  })
  const body = await response.json()
  if (body.error !== undefined) throw new RpcCallError(method, body.error)
  return body.result
}

// --- formatting -----------------------------------------------------------------------------------

const big = (hex) => (typeof hex === 'string' ? BigInt(hex) : undefined)
const num = (hex) => (typeof hex === 'string' ? Number(BigInt(hex)) : undefined)
const short = (hex) => (typeof hex === 'string' && hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : (hex ?? '–'))

function compact(n) {
  if (n === undefined || !Number.isFinite(n)) return '–'
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)} k`
  return n >= 100 || Number.isInteger(n) ? n.toFixed(0) : n.toFixed(1)
}

function ether(hex) {
  const wei = big(hex)
  if (wei === undefined) return '–'
  const whole = wei / 10n ** 18n
  const frac = (wei % 10n ** 18n).toString().padStart(18, '0').slice(0, 6).replace(/0+$/, '')
  return frac === '' ? whole.toString() : `${whole}.${frac}`
}

function setText(id, text) {
  const el = $(id)
  if (el.textContent !== text) el.textContent = text
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value
    else node.setAttribute(key, value)
  }
  for (const child of children) node.append(child)
  return node
}

const SVG_NS = 'http://www.w3.org/2000/svg'
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag)
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value))
  if (text !== undefined) node.textContent = text
  return node
}

// --- live data: WebSocket subscriptions -----------------------------------------------------------

function onMiniBlock(mb) {
  const now = Date.now()
  state.firstMiniAt ??= now
  const second = Math.floor(now / 1000)
  const bucket = state.seconds.get(second) ?? { txs: 0, minis: 0, gas: 0 }
  bucket.txs += mb.transactions.length
  bucket.minis += 1
  bucket.gas += num(mb.gas_used) ?? 0
  state.seconds.set(second, bucket)
  for (const key of state.seconds.keys()) if (key < second - CHART_SECONDS - 1) state.seconds.delete(key)

  const number = big(mb.mini_block_number)
  const timestampUs = num(mb.mini_block_timestamp)
  // Only consecutive mini-blocks give an interval (a reconnect or a dropped message would not).
  if (state.lastMiniNumber !== undefined && number === state.lastMiniNumber + 1n && state.lastMiniTimestampUs !== undefined) {
    state.intervals.push((timestampUs - state.lastMiniTimestampUs) / 1000)
    if (state.intervals.length > KEEP_INTERVALS) state.intervals.splice(0, state.intervals.length - KEEP_INTERVALS)
  }
  state.lastMiniNumber = number
  state.lastMiniTimestampUs = timestampUs

  state.miniBlocks.unshift(mb)
  state.miniBlocks.length = Math.min(state.miniBlocks.length, LIST_MINI)
  for (const tx of mb.transactions) state.txs.unshift(tx)
  state.txs.length = Math.min(state.txs.length, LIST_TXS)
  state.dirty = true
}

async function onNewHead(header) {
  state.head = header
  state.headSeenAt = Date.now()
  state.dirty = true
  try {
    // newHeads carries no transactions: the count comes from the block itself (hashes only).
    const block = await rpc('eth_getBlockByHash', [header.hash, false])
    if (block !== null) addBlock(block)
  } catch (error) {
    showError(error)
  }
}

function addBlock(block) {
  if (state.blocks.some((b) => b.hash === block.hash)) return
  state.blocks.unshift(block)
  state.blocks.sort((a, b) => (big(b.number) > big(a.number) ? 1 : -1))
  state.blocks.length = Math.min(state.blocks.length, LIST_BLOCKS)
  state.dirty = true
}

function connect(attempt = 0) {
  const ws = new WebSocket(WS_URL)
  const pending = new Map()
  const kinds = new Map()
  ws.addEventListener('open', () => {
    attempt = 0
    state.subscriptions = 'live'
    state.dirty = true
    for (const kind of ['miniBlocks', 'newHeads']) {
      const id = nextId++
      pending.set(id, kind)
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'eth_subscribe', params: [kind] }))
    }
  })
  ws.addEventListener('message', (event) => {
    const message = JSON.parse(event.data)
    if (message.id !== undefined && pending.has(message.id)) {
      const kind = pending.get(message.id)
      pending.delete(message.id)
      // A validator serves no subscriptions: the page falls back to polling what it does serve.
      if (message.error !== undefined) state.subscriptions = 'unavailable'
      else kinds.set(message.result, kind)
      state.dirty = true
      return
    }
    if (message.method !== 'eth_subscription') return
    const kind = kinds.get(message.params.subscription)
    if (kind === 'miniBlocks') onMiniBlock(message.params.result)
    else if (kind === 'newHeads') void onNewHead(message.params.result)
  })
  ws.addEventListener('close', () => {
    if (state.subscriptions !== 'unavailable') state.subscriptions = 'disconnected'
    state.dirty = true
    setTimeout(() => connect(attempt + 1), Math.min(10_000, 500 * 2 ** attempt))
  })
}

// --- polled data ----------------------------------------------------------------------------------

async function poll() {
  try {
    state.info = await rpc('mega_nodeInfo')
    clearError()
  } catch (error) {
    showError(error)
  }
  try {
    state.sync = await rpc('optimism_syncStatus')
    state.syncError = undefined
  } catch (error) {
    state.sync = undefined
    state.syncError = error instanceof RpcCallError ? error.rpcMessage : String(error)
  }
  if (state.subscriptions !== 'live') {
    try {
      const number = await rpc('eth_blockNumber')
      if (state.head === undefined || big(number) !== big(state.head.number)) {
        const block = await rpc('eth_getBlockByNumber', [number, false])
        if (block !== null) {
          state.head = block
          state.headSeenAt = Date.now()
          addBlock(block)
        }
      }
    } catch {
      // A validator answers eth_blockNumber only (its verified block); eth_getBlockByNumber is absent.
    }
  }
  state.dirty = true
}

async function loadRecentBlocks() {
  try {
    const latest = await rpc('eth_getBlockByNumber', ['latest', false])
    if (latest === null) return
    state.head ??= latest
    state.headSeenAt ??= Date.now()
    const top = big(latest.number)
    const numbers = []
    for (let n = top; n >= 0n && numbers.length < LIST_BLOCKS; n--) numbers.push(`0x${n.toString(16)}`)
    const blocks = await Promise.all(numbers.map((n) => rpc('eth_getBlockByNumber', [n, false])))
    for (const block of blocks) if (block !== null) addBlock(block)
  } catch {
    // Not every role serves blocks (a validator); the live stream fills the list where it can.
  }
}

// --- errors -----------------------------------------------------------------------------------------

function showError(error) {
  const box = $('node-error')
  box.hidden = false
  box.textContent = error instanceof Error ? error.message : String(error)
}

function clearError() {
  $('node-error').hidden = true
}

// --- rendering ----------------------------------------------------------------------------------------

/** Per-second rate of `field` over the last `ms` (or since the first mini-block arrived, when that is later). */
function windowRate(field, ms) {
  const now = Date.now()
  const from = Math.max(now - ms, state.firstMiniAt ?? now)
  const fromSecond = Math.floor(from / 1000)
  let sum = 0
  for (const [second, bucket] of state.seconds) if (second >= fromSecond) sum += bucket[field]
  // Whole seconds are counted: the span covers them all, and at least one (no rate from a fraction).
  const span = Math.max(1, Math.floor(now / 1000) - fromSecond + 1)
  return sum / span
}

function renderHeader() {
  const info = state.info
  setText('role', info === undefined ? '…' : `${info.role}${info.mode === undefined ? '' : ` (${info.mode})`}`)
  setText('chain', info === undefined ? 'chain …' : `chain ${num(info.chainId)}`)
  const conn = $('conn')
  const labels = {
    live: ['live', 'pill ok'],
    connecting: ['connecting', 'pill warn'],
    disconnected: ['reconnecting', 'pill bad'],
    unavailable: ['polling (no subscriptions)', 'pill warn'],
  }
  const [label, cls] = labels[state.subscriptions]
  conn.textContent = label
  conn.className = cls
}

function renderCards() {
  const info = state.info
  const headNumber = state.head?.number ?? info?.head?.block ?? info?.verified?.block
  setText('block-number', headNumber === undefined ? '–' : String(num(headNumber)))
  setText('block-age', state.headSeenAt === undefined ? '\u00a0' : `${((Date.now() - state.headSeenAt) / 1000).toFixed(1)} s ago`)
  const mini = state.lastMiniNumber ?? big(info?.head?.miniBlock)
  setText('mini-number', mini === undefined ? '–' : mini.toString())
  setText('mini-rate', compact(windowRate('minis', RATE_WINDOW_MS)))
  setText('tps', compact(windowRate('txs', RATE_WINDOW_MS)))
  setText('gas-rate', compact(windowRate('gas', RATE_WINDOW_MS)))
  const pool = info?.txpool
  setText('pool-pending', pool === undefined ? 'n/a' : String(pool.pending))
  setText(
    'pool-queued',
    pool === undefined ? 'no pool on this role (forwards to the sequencer)' : `pending · ${pool.queued} queued`,
  )
  setText('peers', info?.peers === undefined ? 'n/a' : String(info.peers))
  setText('peer-id', info?.peerId === undefined ? '\u00a0' : short(info.peerId))
}

function renderRateChart() {
  const chart = $('rate-chart')
  const now = Math.floor(Date.now() / 1000)
  const tps = []
  const mbs = []
  for (let s = now - CHART_SECONDS; s < now; s++) {
    const bucket = state.seconds.get(s)
    tps.push(bucket?.txs ?? 0)
    mbs.push(bucket?.minis ?? 0)
  }
  const max = Math.max(10, ...tps, ...mbs)
  const w = 600
  const h = 150
  const line = (values) =>
    values
      .map(
        (v, i) => `${i === 0 ? 'M' : 'L'}${((i / (values.length - 1)) * w).toFixed(1)},${(h - (v / max) * (h - 12)).toFixed(1)}`,
      )
      .join(' ')
  chart.replaceChildren(
    svg('line', { class: 'axis', x1: 0, y1: h, x2: w, y2: h }),
    svg('text', { x: 4, y: 10 }, `${compact(max)}/s`),
    svg('path', { class: 'mbs', d: line(mbs) }),
    svg('path', { class: 'tps', d: line(tps) }),
  )
}

function renderIntervalChart() {
  const chart = $('interval-chart')
  const counts = BUCKETS.map(() => 0)
  for (const ms of state.intervals) counts[BUCKETS.findIndex((b) => ms <= b)]++
  const max = Math.max(1, ...counts)
  const w = 600
  const h = 140
  const slot = w / BUCKETS.length
  const nodes = [svg('line', { class: 'axis', x1: 0, y1: h, x2: w, y2: h })]
  BUCKETS.forEach((bound, i) => {
    const barH = (counts[i] / max) * (h - 14)
    nodes.push(svg('rect', { class: 'bar', x: i * slot + 4, y: h - barH, width: slot - 8, height: barH }))
    const label = bound === Number.POSITIVE_INFINITY ? `>${BUCKETS[i - 1]}` : `≤${bound}`
    nodes.push(svg('text', { x: i * slot + 6, y: h + 12 }, label))
    if (counts[i] > 0) nodes.push(svg('text', { x: i * slot + 6, y: h - barH - 3 }, String(counts[i])))
  })
  chart.replaceChildren(...nodes)
  const sorted = [...state.intervals].sort((a, b) => a - b)
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(1)
  setText(
    'interval-summary',
    sorted.length === 0 ? 'no mini-blocks received yet' : `${sorted.length} intervals · p50 ${pct(0.5)} ms · p99 ${pct(0.99)} ms`,
  )
}

function renderDl(id, rows) {
  const dl = $(id)
  const nodes = []
  for (const [key, value, cls] of rows) {
    nodes.push(el('dt', {}, key))
    const dd = el('dd', { 'data-field': key }, value)
    if (cls !== undefined) dd.className = cls
    nodes.push(dd)
  }
  dl.replaceChildren(...nodes)
}

function renderReplica() {
  const info = state.info
  if (info === undefined) return renderDl('replica', [['status', 'waiting for mega_nodeInfo']])
  if (info.role === 'sequencer')
    return renderDl('replica', [['status', 'not a replica: this sequencer produces the blocks replicas verify']])
  if (info.mode === 'l1') return renderDl('replica', [['status', 'derives from L1 (no p2p verification)']])
  const verified = num(info.verified?.block)
  const head = num(info.head?.block ?? state.head?.number)
  const failure = info.verified?.failure
  renderDl('replica', [
    ['mode', info.mode ?? '–'],
    ['head', head === undefined ? '–' : String(head)],
    ['verified', verified === undefined ? '–' : String(verified)],
    ['lag (blocks)', head === undefined || verified === undefined ? '–' : String(Math.max(0, head - verified))],
    [
      'failures',
      failure === undefined ? '0' : `block ${num(failure.block)}: ${failure.code}: ${failure.message}`,
      failure === undefined ? 'good' : 'bad',
    ],
  ])
}

const ref = (r) => (r === undefined || r === null ? '–' : `${num(r.number)} (${short(r.hash)})`)

/** The sequencer's proposer (`mega_nodeInfo.proposer`): its latest output proposal and the games still open. */
function proposerRows(p) {
  if (p === undefined) return []
  if (!p.enabled) return [['output proposals', `off${p.reason === undefined ? '' : ` (${p.reason})`}`]]
  return [
    ['latest output proposal', p.latestProposed === undefined ? 'none yet' : `block ${num(p.latestProposed)}`],
    ['open dispute games', p.gamesInProgress === undefined ? '–' : String(p.gamesInProgress)],
    ...(p.failure === undefined ? [] : [['proposer', `failing: ${p.failure}`]]),
  ]
}

function renderL1() {
  if (state.sync === undefined) {
    return renderDl('l1', [
      ['status', 'no L1: this node follows no L1 chain'],
      ['detail', state.syncError ?? 'waiting for optimism_syncStatus'],
    ])
  }
  const s = state.sync
  const lag = s.unsafe_l2 === undefined || s.safe_l2 === undefined ? undefined : num(s.unsafe_l2.number) - num(s.safe_l2.number)
  renderDl('l1', [
    ['L1 head', ref(s.head_l1)],
    ['L1 safe', ref(s.safe_l1)],
    ['L1 finalized', ref(s.finalized_l1)],
    ['derived up to L1', ref(s.current_l1)],
    ['L2 unsafe', ref(s.unsafe_l2)],
    ['L2 safe', ref(s.safe_l2)],
    ['L2 finalized', ref(s.finalized_l2)],
    ['batch lag (L2 blocks)', lag === undefined ? '–' : String(lag)],
    ...proposerRows(state.info?.proposer),
  ])
}

function renderLists() {
  $('mini-blocks').replaceChildren(
    ...state.miniBlocks.map((mb) =>
      el(
        'tr',
        {},
        el('td', {}, big(mb.mini_block_number).toString()),
        el('td', {}, `${num(mb.block_number)}.${num(mb.index)}`),
        el('td', {}, String(mb.transactions.length)),
        el('td', {}, compact(num(mb.gas_used))),
      ),
    ),
  )
  $('blocks').replaceChildren(
    ...state.blocks.map((b) =>
      el(
        'tr',
        {},
        el('td', {}, String(num(b.number))),
        el('td', { title: b.hash }, short(b.hash)),
        el('td', {}, String(b.transactions?.length ?? '–')),
        el('td', {}, compact(num(b.gasUsed))),
        el('td', {}, b.miniBlockCount === undefined ? '–' : String(num(b.miniBlockCount))),
      ),
    ),
  )
  if (state.holdTxs) return
  $('txs').replaceChildren(
    ...state.txs.map((tx) => {
      const row = el(
        'tr',
        { class: tx.hash === state.selected ? 'tx selected' : 'tx', 'data-hash': tx.hash, title: tx.hash },
        el('td', {}, short(tx.hash)),
        el('td', {}, short(tx.from)),
        el('td', {}, tx.to === null ? 'create' : short(tx.to)),
        el('td', {}, ether(tx.value)),
      )
      return row
    }),
  )
}

function render() {
  if (!state.dirty) return
  state.dirty = false
  renderHeader()
  renderCards()
  renderRateChart()
  renderIntervalChart()
  renderReplica()
  renderL1()
  renderLists()
}

// --- transaction details ----------------------------------------------------------------------------

async function showTransaction(hash) {
  state.selected = hash
  state.dirty = true
  const panel = $('tx-detail')
  panel.hidden = false
  setText('tx-detail-hash', hash)
  renderDl('tx-fields', [['status', 'loading…']])
  renderDl('receipt-fields', [['status', 'loading…']])
  try {
    const [tx, receipt] = await Promise.all([rpc('eth_getTransactionByHash', [hash]), rpc('eth_getTransactionReceipt', [hash])])
    if (state.selected !== hash) return
    renderDl(
      'tx-fields',
      tx === null
        ? [['status', 'not found']]
        : [
            ['hash', tx.hash],
            ['type', tx.type],
            ['from', tx.from],
            ['to', tx.to ?? '(contract creation)'],
            ['value', `${ether(tx.value)} ETH`],
            ['nonce', String(num(tx.nonce))],
            ['gas', String(num(tx.gas))],
            ['maxFeePerGas', tx.maxFeePerGas === undefined ? String(num(tx.gasPrice)) : String(num(tx.maxFeePerGas))],
            ['block', tx.blockNumber === null ? 'pending' : String(num(tx.blockNumber))],
            ['index', tx.transactionIndex === null ? '–' : String(num(tx.transactionIndex))],
          ],
    )
    if (receipt === null) return renderDl('receipt-fields', [['status', 'no receipt yet']])
    const ok = receipt.status === '0x1'
    renderDl('receipt-fields', [
      ['status', ok ? 'success (0x1)' : `failed (${receipt.status})`, ok ? 'good' : 'bad'],
      ['gasUsed', String(num(receipt.gasUsed))],
      ['effectiveGasPrice', String(num(receipt.effectiveGasPrice))],
      ['cumulativeGasUsed', String(num(receipt.cumulativeGasUsed))],
      ['block', String(num(receipt.blockNumber))],
      ['blockHash', receipt.blockHash ?? '(open block)'],
      ['logs', String(receipt.logs.length)],
      ['contractAddress', receipt.contractAddress ?? '–'],
    ])
    // The raw hex for scripts reading the page (the browser test compares it with eth_getTransactionReceipt).
    $('receipt-fields').querySelector('[data-field="gasUsed"]').dataset.raw = receipt.gasUsed
    $('receipt-fields').querySelector('[data-field="status"]').dataset.raw = receipt.status
  } catch (error) {
    renderDl('receipt-fields', [['error', error instanceof Error ? error.message : String(error)]])
  }
}

$('txs').addEventListener('click', (event) => {
  const row = event.target instanceof Element ? event.target.closest('tr[data-hash]') : null
  if (row !== null) void showTransaction(row.dataset.hash)
})
$('txs').addEventListener('mouseenter', () => {
  state.holdTxs = true
})
$('txs').addEventListener('mouseleave', () => {
  state.holdTxs = false
})
$('tx-detail-close').addEventListener('click', () => {
  state.selected = undefined
  $('tx-detail').hidden = true
  state.dirty = true
})

// --- start ----------------------------------------------------------------------------------------------

connect()
void poll()
void loadRecentBlocks()
setInterval(() => void poll(), POLL_MS)
setInterval(() => {
  // Time-based figures (rates, "s ago") change even without new data.
  state.dirty = true
  render()
}, RENDER_MS)
