import { multiaddr } from '@multiformats/multiaddr'

/** The peer id a multiaddr names (its `/p2p/<id>` part); undefined when it names none or does not parse. */
export function peerIdOfMultiaddr(addr: string): string | undefined {
  try {
    return multiaddr(addr).getPeerId() ?? undefined
  } catch {
    return undefined
  }
}
