/**
 * A stand-in for the AWS endpoints that records every SDK call made to it. Point a process's
 * SDK clients at it with `AWS_ENDPOINT_URL`; it tells the calls apart by the SigV4 credential
 * scope (service, region, and the access key id, which names the caller), and reads the
 * operation from `X-Amz-Target` (JSON protocols: DynamoDB, SQS, Kinesis), the `Action` form
 * field (query protocol: SNS) or the REST method and path (EventBridge Scheduler).
 *
 * DynamoDB calls are forwarded verbatim to DynamoDB Local. SQS SendMessageBatch, SNS
 * PublishBatch, Scheduler CreateSchedule/DeleteSchedule and Kinesis PutRecord(s) get answers
 * the SDK accepts (with the body MD5s SQS clients check). Anything else is recorded and
 * refused with a 400, so a new kind of call fails loudly instead of passing unseen.
 *
 * It speaks HTTP/1.1 and HTTP/2 without TLS on one port: the Kinesis client of SDK v3 talks
 * HTTP/2 (prior knowledge), the others HTTP/1.1.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';

/** One SDK call as the proxy saw it. */
export interface RecordedCall {
  /** The access key id the caller signed with: names which process made the call. */
  caller: string;
  /** The SigV4 signing name: dynamodb, sqs, sns, scheduler, kinesis, … */
  service: string;
  /** The signing region. */
  region: string;
  /** The API operation, e.g. `TransactWriteItems`, or `unknown …` when it could not be told. */
  operation: string;
  /** The request parameters: the JSON body, the query-protocol form, or path/query/body (REST). */
  input: Record<string, any>;
  /** The HTTP status the caller got. */
  status: number;
}

export interface RecordingAwsProxy {
  /** `http://127.0.0.1:<port>`: the value for `AWS_ENDPOINT_URL`. */
  endpoint: string;
  /** Every call so far, in arrival order. */
  readonly calls: readonly RecordedCall[];
  /** The calls one caller (access key id) made. */
  callsBy(caller: string): RecordedCall[];
  stop(): Promise<void>;
}

interface Incoming {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

const HTTP2_PREFACE = 'PRI * HTTP/2.0';

/** Starts the proxy on 127.0.0.1; DynamoDB calls go on to `dynamoDbEndpoint`. */
export async function startRecordingAwsProxy(options: {
  dynamoDbEndpoint: string;
}): Promise<RecordingAwsProxy> {
  const calls: RecordedCall[] = [];

  const handle = async (request: Incoming): Promise<Answer> => {
    const scope = credentialScope(request.headers.authorization);
    const call: RecordedCall = {
      caller: scope?.accessKeyId ?? 'unsigned',
      service: scope?.service ?? 'unknown',
      region: scope?.region ?? 'unknown',
      operation: 'unknown',
      input: {},
      status: 0,
    };
    calls.push(call);
    let answer: Answer;
    try {
      answer = await answerFor(call, request, options.dynamoDbEndpoint);
    } catch (error) {
      answer = jsonError(500, 'InternalFailure', `recording proxy: ${String(error)}`);
    }
    call.status = answer.status;
    return answer;
  };

  const respond = (
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void handle({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks),
      }).then((answer) => {
        const body = Buffer.isBuffer(answer.body) ? answer.body : Buffer.from(answer.body);
        res.writeHead(answer.status, { ...answer.headers, 'content-length': body.byteLength });
        res.end(body);
      });
    });
  };

  const http1 = http.createServer(respond);
  const h2c = http2.createServer(respond);
  // One port for both: the first bytes of a connection say which protocol it speaks.
  const server = net.createServer((socket) => {
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      const http2Preface = first.toString('latin1', 0, HTTP2_PREFACE.length) === HTTP2_PREFACE;
      (http2Preface ? h2c : http1).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
    socket.on('error', () => undefined);
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    calls,
    callsBy: (caller) => calls.filter((c) => c.caller === caller),
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Access key id, region and service of a SigV4 `Authorization` header. */
export function credentialScope(
  authorization: string | string[] | undefined,
): { accessKeyId: string; region: string; service: string } | undefined {
  const value = Array.isArray(authorization) ? authorization[0] : authorization;
  const match = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(value ?? '');
  if (!match) return undefined;
  const [, accessKeyId = '', region = '', service = ''] = match;
  return { accessKeyId, region, service };
}

function header(request: Incoming, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function jsonBody(request: Incoming): Record<string, any> {
  const text = request.body.toString('utf8');
  return text ? (JSON.parse(text) as Record<string, any>) : {};
}

function jsonAnswer(body: unknown, contentType = 'application/x-amz-json-1.0'): Answer {
  return {
    status: 200,
    headers: { 'content-type': contentType, 'x-amzn-requestid': randomUUID() },
    body: JSON.stringify(body),
  };
}

function jsonError(status: number, type: string, message: string): Answer {
  return {
    status,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-errortype': type,
      'x-amzn-requestid': randomUUID(),
    },
    body: JSON.stringify({ __type: type, message }),
  };
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/** Records what the call is and answers it. */
async function answerFor(
  call: RecordedCall,
  request: Incoming,
  dynamoDbEndpoint: string,
): Promise<Answer> {
  const target = header(request, 'x-amz-target');
  const refuse = () =>
    jsonError(400, 'UnknownOperationException', `recording proxy: no answer for ${describe(call)}`);

  if (target) {
    // JSON protocols: `DynamoDB_20120810.GetItem`, `AmazonSQS.SendMessageBatch`, `Kinesis_20131202.PutRecord`.
    call.operation = target.slice(target.lastIndexOf('.') + 1);
    call.input = jsonBody(request);
    switch (call.service) {
      case 'dynamodb':
        return forward(request, dynamoDbEndpoint);
      case 'sqs':
        if (call.operation === 'SendMessageBatch') return sqsSendMessageBatch(call.input);
        return refuse();
      case 'kinesis':
        if (call.operation === 'PutRecord')
          return jsonAnswer(kinesisPut(), 'application/x-amz-json-1.1');
        if (call.operation === 'PutRecords') {
          const records = (call.input.Records ?? []) as unknown[];
          return jsonAnswer(
            { FailedRecordCount: 0, Records: records.map(() => kinesisPut()) },
            'application/x-amz-json-1.1',
          );
        }
        return refuse();
      default:
        return refuse();
    }
  }

  const contentType = header(request, 'content-type') ?? '';
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    // Query protocol (SNS): `Action=PublishBatch&Version=…&TopicArn=…`.
    const form = Object.fromEntries(new URLSearchParams(request.body.toString('utf8')));
    call.operation = form.Action ?? 'unknown';
    call.input = form;
    if (call.service === 'sns' && call.operation === 'PublishBatch') return snsPublishBatch(form);
    return refuse();
  }

  // REST JSON (EventBridge Scheduler): `POST|DELETE|GET|PUT /schedules/{Name}`.
  const url = new URL(request.url, 'http://proxy');
  const query = Object.fromEntries(url.searchParams);
  const body = request.body.byteLength > 0 ? jsonBody(request) : {};
  call.input = { path: url.pathname, query, ...body };
  if (call.service === 'scheduler') {
    const schedule = /^\/schedules\/([^/]+)$/.exec(url.pathname);
    if (schedule) {
      const name = decodeURIComponent(schedule[1] ?? '');
      const group = (body.GroupName as string | undefined) ?? query.groupName ?? 'default';
      call.input = { ...call.input, Name: name, GroupName: group };
      const arn = `arn:aws:scheduler:${call.region}:123456789012:schedule/${group}/${name}`;
      switch (request.method) {
        case 'POST':
          call.operation = 'CreateSchedule';
          return jsonAnswer({ ScheduleArn: arn }, 'application/json');
        case 'DELETE':
          call.operation = 'DeleteSchedule';
          return jsonAnswer({}, 'application/json');
        case 'PUT':
          call.operation = 'UpdateSchedule';
          return refuse();
        case 'GET':
          call.operation = 'GetSchedule';
          return refuse();
      }
    }
  }
  call.operation = `unknown ${request.method} ${url.pathname}`;
  return refuse();
}

function describe(call: RecordedCall): string {
  return `${call.service} ${call.operation}`;
}

/** Sends the request on to DynamoDB Local as it came and returns its answer as it is. */
async function forward(request: Incoming, endpoint: string): Promise<Answer> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    if (['host', 'connection', 'content-length', 'transfer-encoding'].includes(name)) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  // fetch would otherwise ask for compression and hand back the body decompressed.
  headers.set('accept-encoding', 'identity');
  const response = await fetch(new URL(request.url, endpoint), {
    method: request.method,
    headers,
    body: request.body.byteLength > 0 ? request.body : undefined,
  });
  const answerHeaders: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    const hopByHop = ['connection', 'content-length', 'transfer-encoding', 'keep-alive'];
    if (!hopByHop.includes(name) && name !== 'content-encoding') {
      answerHeaders[name] = value;
    }
  });
  return {
    status: response.status,
    headers: answerHeaders,
    body: Buffer.from(await response.arrayBuffer()),
  };
}

/** SendMessageBatch accepted in full, with the body MD5s the SDK verifies. */
function sqsSendMessageBatch(input: Record<string, any>): Answer {
  const entries = (input.Entries ?? []) as { Id: string; MessageBody?: string }[];
  return jsonAnswer({
    Successful: entries.map((entry) => ({
      Id: entry.Id,
      MessageId: randomUUID(),
      MD5OfMessageBody: md5(entry.MessageBody ?? ''),
    })),
    Failed: [],
  });
}

let kinesisSequence = 49_600_000_000_000_000_000_000_000_000_000_000_000_000_000n;

function kinesisPut() {
  kinesisSequence += 1_000n;
  return { ShardId: 'shardId-000000000000', SequenceNumber: kinesisSequence.toString() };
}

const xmlEscape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** PublishBatch accepted in full, as the query protocol's XML. */
function snsPublishBatch(form: Record<string, string>): Answer {
  const ids = Object.entries(form)
    .filter(([name]) => /^PublishBatchRequestEntries\.member\.\d+\.Id$/.test(name))
    .map(([, id]) => id);
  const members = ids
    .map((id) => `<member><Id>${xmlEscape(id)}</Id><MessageId>${randomUUID()}</MessageId></member>`)
    .join('');
  const xml =
    '<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">' +
    `<PublishBatchResult><Successful>${members}</Successful><Failed/></PublishBatchResult>` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>` +
    '</PublishBatchResponse>';
  return { status: 200, headers: { 'content-type': 'text/xml' }, body: xml };
}
