// Worker threads load JavaScript; the project runs TypeScript through tsx: register it, then serve.
import { register } from 'tsx/esm/api'

register()
const { serveKzgRequests } = await import('./kzg-thread.ts')
serveKzgRequests()
