// Worker threads load JavaScript; the project runs TypeScript through tsx: register it, then serve.
import { register } from 'tsx/esm/api'

register()
const { serveCalls } = await import('./worker.ts')
await serveCalls()
