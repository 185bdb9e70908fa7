/**
 * The JSON-lines protocol the interop harnesses (ref.mjs, outside.mjs) speak with the
 * Python tests: each stdin line is one request `{op, id?, ...}`; each produces exactly one
 * stdout line, in request order, `{id?, ok: true, result}` or `{id?, ok: false, error}`.
 * A failed operation is an answer, never a crash, so one bad request cannot end the
 * process the test-suite shares between tests.
 */
import {createInterface} from 'node:readline';

/** One line of text for an error of jsonld, jsonld-signatures or vc (causes included). */
export function describeError(error) {
  if(!error) {
    return 'not verified';
  }
  if(Array.isArray(error.errors) && error.errors.length > 0) {
    return error.errors.map(describeError).join('; ');
  }
  let message = error.message || String(error);
  // jsonld safe mode: the reason is in the event, not the message
  const event = error.details?.event;
  if(event) {
    const details = JSON.stringify(event.details ?? {}).slice(0, 300);
    message += ` [${event.code}] ${event.message} ${details}`;
  }
  // jsonld wraps document loader failures; keep the loader's own reason
  const cause = error.details?.cause ?? error.cause;
  return cause ? `${message} (${describeError(cause)})` : message;
}

async function handle(operations, line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch(e) {
    return {ok: false, error: `Invalid JSON request: ${e.message}`};
  }
  const reply = {};
  if(request && request.id !== undefined) {
    reply.id = request.id;
  }
  const op = Object.hasOwn(operations, request?.op) ? operations[request.op] : null;
  if(!op) {
    return {...reply, ok: false, error: `Unknown op "${request?.op}".`};
  }
  try {
    const result = await op(request);
    return {...reply, ok: true, result: result ?? null};
  } catch(e) {
    return {...reply, ok: false, error: describeError(e)};
  }
}

/** Answer requests from stdin with `operations` (op name -> async handler) until EOF. */
export function serveJsonLines(operations) {
  const lines = createInterface({input: process.stdin, crlfDelay: Infinity});
  // one request at a time, so replies come back in request order
  let queue = Promise.resolve();
  lines.on('line', line => {
    if(!line.trim()) {
      return;
    }
    queue = queue.then(async () => {
      const reply = await handle(operations, line);
      process.stdout.write(JSON.stringify(reply) + '\n');
    });
  });
  lines.on('close', () => {
    queue.then(() => process.exit(0));
  });
}

/**
 * Send console output to stderr: a harness's stdout carries only its answers, and the
 * libraries it drives log freely.
 */
export function consoleToStderr() {
  console.log = console.error;
  console.info = console.error;
  console.debug = console.error;
  console.warn = console.error;
}

/** The failed answer of a one-shot harness: the error's message. */
const failedAnswer = error => ({ok: false, error: String(error?.message ?? error)});

/**
 * The one-shot variant (oid4vc.mjs, oid4vc_sdjwt.mjs, sdjwt.mjs): read ONE JSON request
 * `{op, ...}` from all of stdin, write ONE line `{ok: true, result}` or the answer
 * `describeFailure(error)` gives (default `{ok: false, error}`), then end.
 */
export async function answerOneRequest(operations, describeFailure = failedAnswer) {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  let answer;
  try {
    const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const operation = operations[request.op];
    if(!operation) {
      throw new Error(`unknown op ${request.op}`);
    }
    answer = {ok: true, result: await operation(request)};
  } catch(error) {
    answer = describeFailure(error);
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
