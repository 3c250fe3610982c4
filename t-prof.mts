import { readFileSync } from 'node:fs'
import { topSelfTime } from './bench/profile.ts'
const p = JSON.parse(readFileSync(process.argv[2]!, 'utf8'))
const total = p.timeDeltas.reduce((a: number, b: number) => a + b, 0) / 1000
console.log('total ms', total.toFixed(0))
for (const r of topSelfTime(p, 35)) console.log(r.ms, r.share, r.fn)
