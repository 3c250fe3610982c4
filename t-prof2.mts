import { readFileSync } from 'node:fs'
import { topSelfTime } from './bench/profile.ts'
const p = JSON.parse(readFileSync(process.argv[2]!, 'utf8'))
const parent = new Map<number, number>()
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const byId = new Map(p.nodes.map((n: any) => [n.id, n]))
const has = (id: number, name: string) => { for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) if ((byId.get(x) as any).callFrame.functionName === name) return true; return false }
let t = p.startTime; let first = 0, last = 0
p.samples.forEach((id: number, i: number) => { t += p.timeDeltas[i]; if (has(id, 'buildDerivedBlock')) { if (!first) first = t; last = t } })
console.log('window ms', (last - first) / 1000)
for (const r of topSelfTime(p, 30, [first, last])) console.log(r.ms, r.share, r.fn)
// inclusive for some
const incl = new Map<string, number>()
t = p.startTime
p.samples.forEach((id: number, i: number) => { t += p.timeDeltas[i]; if (t < first || t > last) return; const seen = new Set<string>(); for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) { const f = (byId.get(x) as any).callFrame; const k = f.functionName + ' ' + f.url.replace(/^.*\/(node_modules\/|src\/)/, '$1'); if (!seen.has(k)) { seen.add(k); incl.set(k, (incl.get(k) ?? 0) + p.timeDeltas[i] / 1000) } } })
console.log('--- inclusive')
for (const [k, v] of [...incl.entries()].sort((a, b) => b[1] - a[1]).slice(0, 45)) console.log(v.toFixed(0), k)
