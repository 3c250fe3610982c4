// run-tests: pair — a node or anvil answering a few calls: no load, no assertion on time
/**
 * End to end with ethers v6 against a real `megaeth-node --dev` child: `JsonRpcProvider` with its
 * defaults (network detection, JSON-RPC batching of concurrent calls, polling) and `Wallet`.
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import {
  Contract,
  ContractFactory,
  JsonRpcProvider,
  Wallet,
  isError,
  keccak256,
  parseEther,
  type ContractEventPayload,
  type ContractTransactionResponse,
  type EventLog,
  type Log,
  type TransactionReceipt,
} from 'ethers'
import { contract } from '../helpers/contracts.ts'
import { DEV_CHAIN_ID, DEV_KEYS, startNode, waitFor, type NodeHandle } from '../helpers/node-process.ts'
import { unsealedBlockNumber } from '../../src/rpc/eth/format.ts'

let node: NodeHandle
let provider: JsonRpcProvider

function wallet(i: number): Wallet {
  return new Wallet(DEV_KEYS[i]!, provider)
}

/**
 * Uncached balance read. ethers' AbstractProvider answers an identical request from a 250 ms cache
 * (`cacheTimeout`); on a chain with 10 ms mini-blocks, state moves faster than that.
 */
async function freshBalance(address: string): Promise<bigint> {
  return BigInt((await provider.send('eth_getBalance', [address, 'latest'])) as string)
}

function randomAddress(): string {
  return Wallet.createRandom().address
}

/** Resolves when the tx's EVM block is sealed (ethers' `getTransactionReceipt` needs a blockHash). */
async function sealed(hash: string): Promise<TransactionReceipt> {
  return waitFor(
    `sealed receipt of ${hash}`,
    async () => {
      const raw = (await provider.send('eth_getTransactionReceipt', [hash])) as { blockHash: string } | null
      // Before its EVM block seals a receipt carries the placeholder hash (the zero-padded block number).
      if (raw === null || unsealedBlockNumber(raw.blockHash as `0x${string}`) !== undefined) return undefined
      return (await provider.getTransactionReceipt(hash)) ?? undefined
    },
    10_000,
    100,
  )
}

before(async () => {
  contract('Token')
  node = await startNode()
  // Defaults on purpose: batching (up to 100 calls per request), network detection via eth_chainId.
  provider = new JsonRpcProvider(node.rpcUrl)
  provider.pollingInterval = 100
})

after(async () => {
  provider?.destroy()
  await node?.stop()
})

describe('ethers v6 provider', { timeout: 60_000 }, () => {
  test('network detection, getBlockNumber, getBlock (latest, by number with transactions, by hash)', async () => {
    const network = await provider.getNetwork()
    assert.equal(network.chainId, BigInt(DEV_CHAIN_ID))
    const number = await provider.getBlockNumber()
    assert.ok(number >= 0, `block number ${number}`)
    const latest = await provider.getBlock('latest')
    assert.ok(latest !== null, 'latest block exists')
    assert.equal(typeof latest.baseFeePerGas, 'bigint')
    assert.match(latest.hash ?? '', /^0x[0-9a-f]{64}$/)
    const byNumber = await provider.getBlock(latest.number, true)
    assert.equal(byNumber?.hash, latest.hash)
    const byHash = await provider.getBlock(latest.hash!)
    assert.equal(byHash?.number, latest.number)
    assert.equal(byHash?.parentHash, latest.parentHash)
    // The block being built (mini-blocks so far): hash null, parseable by ethers.
    const pending = await provider.getBlock('pending')
    assert.ok(pending !== null, 'pending block')
    assert.equal(pending.hash, null)
    assert.ok(pending.number > latest.number, 'pending is above latest')
  })

  test('getFeeData: gasPrice = 1.25 × base fee, tip from eth_maxPriorityFeePerGas (0)', async () => {
    const fee = await provider.getFeeData()
    const block = await provider.getBlock('latest')
    const baseFee = block!.baseFeePerGas!
    assert.equal(fee.gasPrice, baseFee + baseFee / 4n)
    assert.equal(fee.maxPriorityFeePerGas, 0n)
    assert.equal(fee.maxFeePerGas, baseFee * 2n)
  })

  test('concurrent calls are batched into one request and all answered', async () => {
    const addresses = DEV_KEYS.map((k) => new Wallet(k).address)
    const payloads: unknown[] = []
    const onDebug = (info: { action: string; payload?: unknown }): void => {
      if (info.action === 'sendRpcPayload') payloads.push(info.payload)
    }
    await provider.on('debug', onDebug)
    let balances: bigint[]
    let counts: number[]
    try {
      balances = await Promise.all(addresses.map((a) => provider.getBalance(a)))
      counts = await Promise.all(addresses.map((a) => provider.getTransactionCount(a)))
    } finally {
      await provider.off('debug', onDebug)
    }
    const batches = payloads.filter((p): p is unknown[] => Array.isArray(p) && p.length > 1)
    assert.ok(
      batches.length >= 1,
      `ethers sent a JSON-RPC batch (payload sizes: ${payloads.map((p) => (Array.isArray(p) ? p.length : 1)).join(',')})`,
    )
    assert.ok(
      batches.some((b) => b.length >= 20),
      'the 20 concurrent getBalance calls went out as one batch',
    )
    assert.equal(balances.length, 20)
    for (const b of balances) assert.ok(b > 0n, 'every dev account is funded')
    for (const c of counts) assert.ok(c >= 0, 'nonce')
  })

  test('consecutive-nonce txs broadcast concurrently (one batch) all land, in nonce order', async () => {
    const w = wallet(10)
    const start = await provider.getTransactionCount(w.address, 'pending')
    const to = randomAddress()
    const signed = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        w.signTransaction({
          to,
          value: 1n,
          nonce: start + i,
          gasLimit: 21_000n,
          maxFeePerGas: 10_000_000_000n,
          maxPriorityFeePerGas: 0n,
          chainId: DEV_CHAIN_ID,
          type: 2,
        }),
      ),
    )
    const sent = await Promise.all(signed.map((raw) => provider.broadcastTransaction(raw)))
    assert.deepEqual(
      sent.map((t) => t.hash),
      signed.map((raw) => keccak256(raw)),
    )
    await waitFor('all 10 transfers', async () => (await provider.getBalance(to)) === 10n, 10_000)
    // Raw call: ethers caches identical requests for 250 ms (cacheTimeout), and the previous test asked this one.
    assert.equal(Number(BigInt(await provider.send('eth_getTransactionCount', [w.address, 'latest']))), start + 10)
  })
})

describe('ethers v6 wallet', { timeout: 60_000 }, () => {
  test('transfer with wait() once the block is sealed: exact balances, fee = gasUsed × gasPrice', async () => {
    const w = wallet(11)
    const to = randomAddress()
    const value = parseEther('0.5')
    const before = await freshBalance(w.address)
    const tx = await w.sendTransaction({ to, value })
    await sealed(tx.hash)
    const receipt = await tx.wait()
    assert.ok(receipt !== null, 'wait() returns a receipt')
    assert.equal(receipt.status, 1)
    assert.equal(receipt.hash, tx.hash)
    assert.equal(receipt.gasUsed, 21_000n)
    assert.match(receipt.blockHash, /^0x[0-9a-f]{64}$/)
    assert.equal((await provider.getBlock(receipt.blockNumber))?.hash, receipt.blockHash)
    assert.equal(await freshBalance(to), value)
    assert.equal(await freshBalance(w.address), before - value - receipt.gasUsed * receipt.gasPrice)
    const fetched = await provider.getTransaction(tx.hash)
    assert.equal(fetched?.value, value)
    assert.equal(fetched?.from, w.address)
    assert.equal(fetched?.blockHash, receipt.blockHash)
  })

  test('getTransactionReceipt / tx.wait() while the receipt is realtime (block not sealed yet)', async () => {
    const w = wallet(14)
    const to = randomAddress()
    const tx = await w.sendTransaction({ to, value: 1n })
    // The receipt exists ~10-20 ms after sending, with the placeholder block hash until the 1 s block seals.
    const raw = await waitFor(
      'the realtime receipt',
      async () => ((await provider.send('eth_getTransactionReceipt', [tx.hash])) as { blockHash: string } | null) ?? undefined,
      5_000,
      10,
    )
    assert.notEqual(
      unsealedBlockNumber(raw.blockHash as `0x${string}`),
      undefined,
      'this test needs the unsealed window (the block sealed too early; rerun)',
    )
    const receipt = await provider.getTransactionReceipt(tx.hash)
    assert.equal(receipt?.status, 1)
    const waited = await tx.wait()
    assert.equal(waited?.status, 1)
    assert.equal(await freshBalance(to), 1n)
  })
})

describe('ethers v6 contracts', { timeout: 60_000 }, () => {
  let token: Contract
  let tokenAddress: string
  const supply = 10n ** 24n

  before(async () => {
    const { abi, bytecode } = contract('Token')
    const factory = new ContractFactory(abi as never, bytecode, wallet(12))
    const deployed = await factory.deploy('Ethers Token', 'ETK', supply)
    await sealed(deployed.deploymentTransaction()!.hash)
    await deployed.waitForDeployment()
    tokenAddress = await deployed.getAddress()
    token = new Contract(tokenAddress, abi as never, wallet(12))
  })

  test('deploy + calls: name, symbol, balanceOf; transfer(); wait() receipt logs parse', async () => {
    assert.equal(await token.getFunction('name')(), 'Ethers Token')
    assert.equal(await token.getFunction('symbol')(), 'ETK')
    assert.equal(await token.getFunction('balanceOf')(wallet(12).address), supply)
    const to = randomAddress()
    const tx = (await token.getFunction('transfer')(to, 1234n)) as ContractTransactionResponse
    await sealed(tx.hash)
    const receipt = await tx.wait()
    assert.equal(receipt?.status, 1)
    const parsed = receipt!.logs.map((l) => token.interface.parseLog(l)).filter((p) => p !== null)
    assert.equal(parsed.length, 1)
    assert.equal(parsed[0]!.name, 'Transfer')
    assert.equal(parsed[0]!.args[1], to)
    assert.equal(parsed[0]!.args[2], 1234n)
    assert.equal(await token.getFunction('balanceOf')(to), 1234n)
  })

  test('queryFilter finds Transfer events in a sealed block range', async () => {
    const to = randomAddress()
    const tx = (await token.getFunction('transfer')(to, 55n)) as ContractTransactionResponse
    const receipt = await sealed(tx.hash)
    const events = (await token.queryFilter(
      token.filters['Transfer']!(null, to),
      receipt.blockNumber,
      receipt.blockNumber,
    )) as EventLog[]
    assert.equal(events.length, 1)
    assert.equal(events[0]!.transactionHash, tx.hash)
    assert.equal(events[0]!.blockHash, receipt.blockHash)
    assert.equal(events[0]!.args[2], 55n)
    assert.equal(events[0]!.eventName, 'Transfer')
  })

  // Both listener shapes: by event name, ethers decodes the log into positional arguments; with a
  // filter from `contract.filters`, ethers 6 hands the listener only the payload (its args decoded
  // there), a known ethers behaviour (ethers-io/ethers.js#4984), not the node's.
  test('contract.on delivers Transfer events (by name with decoded arguments, and by indexed filter)', async () => {
    const to = randomAddress()
    const byName: Array<{ to: string; value: bigint; log: Log }> = []
    const byFilter: ContractEventPayload[] = []
    const onName = (_from: string, recipient: string, value: bigint, event: ContractEventPayload): void => {
      if (recipient === to) byName.push({ to: recipient, value, log: event.log })
    }
    const onFilter = (payload: ContractEventPayload): void => {
      byFilter.push(payload)
    }
    const filter = token.filters['Transfer']!(null, to)
    await token.on('Transfer', onName)
    await token.on(filter, onFilter)
    try {
      // Let the subscribers install their filters first (eth_newFilter on the next poll).
      await new Promise((r) => setTimeout(r, 500))
      const tx = (await token.getFunction('transfer')(to, 66n)) as ContractTransactionResponse
      await waitFor(
        'contract.on to deliver the Transfer to both listeners',
        () => byName.length > 0 && byFilter.length > 0,
        15_000,
        100,
      )
      assert.equal(byName[0]!.value, 66n)
      assert.equal(byName[0]!.log.transactionHash, tx.hash)
      assert.equal(byFilter.length, 1, 'the filter matches only the transfer to its recipient')
      assert.equal(byFilter[0]!.log.transactionHash, tx.hash)
      assert.equal(byFilter[0]!.args[1], to)
      assert.equal(byFilter[0]!.args[2], 66n)
    } finally {
      await token.off('Transfer', onName)
      await token.off(filter, onFilter)
    }
  })

  test('revert reasons surface in ethers errors (estimateGas / staticCall), custom errors decode', async () => {
    const tooMuch = supply * 10n
    await assert.rejects(token.getFunction('transfer').staticCall(randomAddress(), tooMuch), (error: unknown) => {
      assert.ok(isError(error, 'CALL_EXCEPTION'), `CALL_EXCEPTION expected, got ${String(error)}`)
      assert.equal(error.reason, 'ERC20: transfer amount exceeds balance')
      assert.equal(error.revert?.name, 'Error')
      return true
    })
    await assert.rejects(token.getFunction('transfer').estimateGas(randomAddress(), tooMuch), (error: unknown) => {
      assert.ok(isError(error, 'CALL_EXCEPTION'), `CALL_EXCEPTION expected, got ${String(error)}`)
      assert.equal(error.reason, 'ERC20: transfer amount exceeds balance')
      return true
    })

    const { abi, bytecode } = contract('Reverter')
    const reverter = await new ContractFactory(abi as never, bytecode, wallet(13)).deploy()
    await sealed(reverter.deploymentTransaction()!.hash)
    await reverter.waitForDeployment()
    await assert.rejects(reverter.getFunction('revertCustom').staticCall(9n), (error: unknown) => {
      assert.ok(isError(error, 'CALL_EXCEPTION'), `CALL_EXCEPTION expected, got ${String(error)}`)
      assert.equal(error.revert?.name, 'Unauthorized')
      assert.equal(error.revert?.args[0], wallet(13).address)
      assert.equal(error.revert?.args[1], 9n)
      return true
    })
    await assert.rejects(reverter.getFunction('divide').staticCall(1n, 0n), (error: unknown) => {
      assert.ok(isError(error, 'CALL_EXCEPTION'), `CALL_EXCEPTION expected, got ${String(error)}`)
      assert.equal(error.revert?.name, 'Panic')
      assert.equal(BigInt(error.revert?.args[0] as number), 0x12n)
      return true
    })
    // Sending a tx ethers would revert: ethers estimates first and throws with the reason.
    await assert.rejects(reverter.getFunction('store')(1n, true), (error: unknown) => {
      assert.ok(isError(error, 'CALL_EXCEPTION'), `CALL_EXCEPTION expected, got ${String(error)}`)
      assert.equal(error.reason, 'Reverter: store failed')
      return true
    })
  })
})
