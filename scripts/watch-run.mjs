// Prints a run's live events, one JSON line each, over the gateway's WebSocket (graphql-ws).
//   TOKEN=<access token or API key> node scripts/watch-run.mjs <runId> [afterSeq]
// Ends when the run reaches its final status. Run it again with the last seq it printed to resume.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [runId, afterSeq = '0'] = process.argv.slice(2);
const url = process.env.GATEWAY_WS_URL ?? 'ws://127.0.0.1:4000/graphql';
if (!runId || !process.env.TOKEN) {
  console.error('usage: TOKEN=<access token or API key> node scripts/watch-run.mjs <runId> [afterSeq]');
  process.exit(2);
}

const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${process.env.TOKEN}` } });
client.subscribe(
  {
    query: `subscription ($id: ID!, $after: Int!) {
      runEvents(runId: $id, afterSeq: $after) { seq kind runStatus stepId taskStatus progress message run { status startedBy { email } } }
    }`,
    variables: { id: runId, after: Number(afterSeq) },
  },
  {
    next: ({ data, errors }) => console.log(JSON.stringify(errors ?? data.runEvents)),
    error: (error) => {
      console.error(JSON.stringify(error));
      process.exit(1);
    },
    complete: () => process.exit(0),
  },
);
