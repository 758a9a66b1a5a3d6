/**
 * A raw Server-Sent Events reader over fetch for the revocation stream's tests: every event as it
 * arrives (comments such as heartbeats skipped), parsed. The verifier package has the production
 * consumer; this one shows exactly what went over the wire.
 */
export interface StreamEvent {
  /** the event's `id` (the revocation log's seq), when it has one */
  id?: number
  event: string
  data: Record<string, unknown>
}

export async function openStream(url: string, token: string, lastEventId?: number) {
  const controller = new AbortController()
  const res = await fetch(url, {
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'text/event-stream',
      ...(lastEventId !== undefined ? { 'last-event-id': String(lastEventId) } : {})
    },
    signal: controller.signal
  })
  const received: StreamEvent[] = []
  const done = (async () => {
    if (res.body === null) return
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true })
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const fields: Record<string, string> = {}
          for (const line of block.split('\n')) {
            if (line === '' || line.startsWith(':')) continue
            const i = line.indexOf(':')
            fields[line.slice(0, i)] = line.slice(i + 1).trimStart()
          }
          if (fields.data === undefined) continue
          received.push({
            ...(fields.id !== undefined ? { id: Number(fields.id) } : {}),
            event: fields.event ?? 'message',
            data: JSON.parse(fields.data) as Record<string, unknown>
          })
        }
      }
    } catch {
      // aborted by close()
    }
  })()
  return {
    res,
    received,
    /** the event naming this token, once it has arrived */
    about: (tokenId: string) => received.find((e) => (e.data.token_ids as string[] | undefined)?.includes(tokenId)),
    close: async () => {
      controller.abort()
      await done
    }
  }
}
