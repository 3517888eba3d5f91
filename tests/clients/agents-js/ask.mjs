// The OpenAI Agents SDK for JavaScript as a client of `omni serve`: a RealtimeAgent with one function tool, a
// RealtimeSession over the WebSocket transport at the SDK's default settings, one typed question per session; a
// question that starts with "+" is the next turn of the session before it instead (a follow-up).
//
//   node ask.mjs ws://127.0.0.1:PORT/v1/realtime?model=omni-realtime "question" ["+follow-up" ...] ["question" ...]
//
// Prints JSON lines (tests/clients/test_agents_js.py reads them):
//   {"kind":"tool_call","case":0,"name":"get_weather","arguments":{"city":"Paris"},"result":"{...}"}
//   {"kind":"answer","case":0,"text":"...","status":"completed","responses":2,"history":[...]}
//   {"kind":"error","case":0,"error":"..."}           anything the SDK or the server reported as an error
//   {"kind":"rejected","case":0,"type":"...","issues":[...]}  a server event of a type the SDK knows that fails its
//                                                      schema (the SDK ignores such an event)
//   {"kind":"unknown","case":0,"type":"..."}           a server event type the SDK has no schema for
//   {"kind":"timeout","case":0,"seconds":240}
//   {"kind":"forgot","case":0,"history":[...]}         with OMNI_AGENT_FORGET_CALLS=1: the history after
//                                                      session.updateHistory() took the function calls out
// Exit code 0 once every question is answered (the test judges the answers), 1 on a failure to connect or run.
import { RealtimeAgent, RealtimeSession, tool } from '@openai/agents-realtime';
import { z } from 'zod';
// The SDK's own schema for server events (not exported by the package): an event that fails it is dropped by the
// SDK without a word (parseRealtimeEvent falls back to a generic event), so the test reports those.
import { realtimeServerEventSchema } from './node_modules/@openai/agents-realtime/dist/openaiRealtimeEvents.mjs';

const KNOWN_TYPES = new Set(realtimeServerEventSchema.options.map((option) => option.shape.type.value));
const TURN_SECONDS = Number(process.env.OMNI_AGENT_TURN_SECONDS ?? 240);

// Canned weather, as a client's own function would have it. Keys are lower case, English and Korean names.
const WEATHER = {
  paris: { city: 'Paris', temperature_c: 14, conditions: 'light rain', humidity_percent: 82 },
  busan: { city: 'Busan', temperature_c: 23, conditions: 'sunny', humidity_percent: 55 },
};
const ALIASES = { '파리': 'paris', '부산': 'busan' };

function lookUp(city) {
  const key = city.trim().toLowerCase().replace(/,.*$/, '').replace(/(시|광역시)$/, '');
  return WEATHER[ALIASES[key] ?? key] ?? { error: `no weather for ${city}` };
}

const getWeather = tool({
  name: 'get_weather',
  description: 'Get the current weather for a city.',
  parameters: z.object({ city: z.string().describe('The city, e.g. "Paris"') }),
  execute: async ({ city }) => JSON.stringify(lookUp(city)),
});

function print(record) {
  process.stdout.write(JSON.stringify(record) + '\n');
}

function describe(error) {
  // The SDK wraps server `error` events as {type: 'error', error: {type: 'error', error: {...}}}.
  const inner = error?.error ?? error;
  if (inner instanceof Error) return `${inner.name}: ${inner.message}`;
  return JSON.stringify(inner?.error ?? inner);
}

function historyView(history) {
  return history.map((item) => {
    if (item.type === 'message') {
      const text = item.content.map((part) => part.text ?? part.transcript ?? '').join('');
      return { type: 'message', role: item.role, status: item.status, text };
    }
    if (item.type === 'function_call') {
      return { type: 'function_call', name: item.name, arguments: item.arguments, output: item.output,
               status: item.status };
    }
    return { type: item.type };
  });
}

async function converse(url, turns) {
  const agent = new RealtimeAgent({
    name: 'Assistant',
    instructions: 'You are a helpful voice assistant.',
    tools: [getWeather],
  });
  const session = new RealtimeSession(agent, { transport: 'websocket' });
  let index = turns[0].index;
  let responses = 0;
  let finished = () => {};

  session.on('agent_tool_end', (_context, _agent, used, result, { toolCall }) => {
    let args = toolCall.arguments;
    try { args = JSON.parse(args); } catch { /* printed as the model sent it */ }
    print({ kind: 'tool_call', case: index, name: used.name, arguments: args, result });
  });
  session.on('error', (error) => print({ kind: 'error', case: index, error: describe(error) }));
  const unknown = new Set();
  session.on('transport_event', (event) => {
    if (!KNOWN_TYPES.has(event.type)) {
      if (!unknown.has(event.type)) print({ kind: 'unknown', case: index, type: event.type });
      unknown.add(event.type);
    } else {
      const checked = realtimeServerEventSchema.safeParse(event);
      if (!checked.success) print({ kind: 'rejected', case: index, type: event.type, issues: checked.error.issues });
    }
    if (event.type !== 'response.done') return;
    responses += 1;
    const output = event.response.output ?? [];
    // A response that ends in function calls is followed by the SDK's function_call_output and response.create;
    // the turn is over at the first response without one.
    if (!output.some((item) => item.type === 'function_call')) finished(event.response);
  });

  await session.connect({ url, apiKey: process.env.OMNI_API_KEY ?? 'sk-omni-local' });
  for (const turn of turns) {
    index = turn.index;
    responses = 0;
    const done = new Promise((resolve) => { finished = resolve; });
    session.sendMessage(turn.question);
    let timer;
    const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(null), TURN_SECONDS * 1000); });
    const response = await Promise.race([done, timeout]);
    clearTimeout(timer);
    // Items are final a moment after response.done (conversation.item.done); the history is read from the SDK.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const history = historyView(session.history);
    if (response === null) {
      print({ kind: 'timeout', case: index, seconds: TURN_SECONDS, history });
      break;
    }
    const last = [...history].reverse().find((item) => item.type === 'message' && item.role === 'assistant');
    print({ kind: 'answer', case: index, text: last?.text ?? '', status: response.status, responses, history });
    if (process.env.OMNI_AGENT_FORGET_CALLS === '1') {
      // The SDK deletes the items on the server (conversation.item.delete), then drops them from its history.
      session.updateHistory((items) => items.filter((item) => item.type !== 'function_call'));
      await new Promise((resolve) => setTimeout(resolve, 500));
      print({ kind: 'forgot', case: index, history: historyView(session.history) });
    }
  }
  session.close();
}

const [url, ...questions] = process.argv.slice(2);
if (!url || questions.length === 0) {
  console.error('usage: node ask.mjs WS_URL QUESTION [QUESTION ...]');
  process.exit(2);
}
// Sessions: a question and the follow-ups ("+...") after it.
const sessions = [];
for (const [index, question] of questions.entries()) {
  if (question.startsWith('+') && sessions.length > 0) {
    sessions.at(-1).push({ question: question.slice(1).trim(), index });
  } else {
    sessions.push([{ question, index }]);
  }
}
try {
  for (const turns of sessions) {
    await converse(url, turns);
  }
} catch (error) {
  print({ kind: 'error', case: -1, error: describe(error) });
  process.exit(1);
}
