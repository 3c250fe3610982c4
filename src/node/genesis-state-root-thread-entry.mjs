// Worker threads load JavaScript; the project runs TypeScript through tsx: register it, then answer.
import { register } from 'tsx/esm/api'

register()
const { answerGenesisRoot } = await import('./genesis-state-root-thread.ts')
await answerGenesisRoot()
