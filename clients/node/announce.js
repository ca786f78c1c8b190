#!/usr/bin/env node
// Publish one Charlandero announcement (docs/announcements.md) on a confirm channel and wait for RabbitMQ's
// confirm. Exit 0: confirmed; 1: not confirmed (nack, unroutable, timeout, connection); 2: bad arguments.
//   CELERY_BROKER_URL=amqp://user:pass@host/vhost node announce.js --channel C0123 --text "Deploy done" --id deploy-42
// --celery sends it as a Celery protocol-2 task (app.bot.tasks.announce, routing key announce.celery) instead.
'use strict';
const crypto = require('node:crypto');
const { parseArgs } = require('node:util');
const amqp = require('amqplib');

const EXCHANGE = 'charla';
const CONFIRM_TIMEOUT_MS = 10000;

function fail(code, message) {
  console.error(`announce: ${message}`);
  process.exit(code);
}

function readArgs() {
  try {
    const { values } = parseArgs({
      options: {
        channel: { type: 'string' }, text: { type: 'string' }, id: { type: 'string' },
        source: { type: 'string', default: 'node' }, 'thread-ts': { type: 'string' },
        celery: { type: 'boolean', default: false },
      },
    });
    for (const name of ['channel', 'text', 'id']) {
      if (values[name] === undefined) throw new Error(`--${name} is required`);
    }
    return values;
  } catch (err) {
    return fail(2, `${err.message}\nusage: announce.js --channel C0123 --text TEXT --id ID [--source node] [--thread-ts TS] [--celery]`);
  }
}

// The contract's message, or the same announcement as the task message a Celery client sends (protocol 2:
// the task's name and id in headers, [args, kwargs, embed] as the body).
function message(args) {
  const fields = { id: args.id, channel: args.channel, text: args.text };
  if (args['thread-ts']) fields.thread_ts = args['thread-ts'];
  if (!args.celery) {
    return { routingKey: `announce.${args.source}`, body: fields, options: {} };
  }
  const taskId = crypto.randomUUID();
  return {
    routingKey: 'announce.celery',
    body: [[], { thread_ts: null, ...fields }, { callbacks: null, errbacks: null, chain: null, chord: null }],
    options: {
      correlationId: taskId,
      headers: { lang: 'js', task: 'app.bot.tasks.announce', id: taskId, root_id: taskId, parent_id: null,
        group: null, retries: 0, eta: null, expires: null, timelimit: [null, null], argsrepr: '()',
        kwargsrepr: JSON.stringify({ id: args.id }), origin: `node@${require('node:os').hostname()}` },
    },
  };
}

async function main() {
  const args = readArgs();
  const url = process.env.CELERY_BROKER_URL || process.env.CLOUDAMQP_URL;
  if (!url) fail(2, 'set CELERY_BROKER_URL (or CLOUDAMQP_URL) to the broker, amqp://user:pass@host/vhost');
  const { routingKey, body, options } = message(args);
  const timer = setTimeout(() => fail(1, 'not confirmed: no confirm within 10 s'), CONFIRM_TIMEOUT_MS);
  const connection = await amqp.connect(url, { timeout: CONFIRM_TIMEOUT_MS });
  const channel = await connection.createConfirmChannel();
  let returned = null;
  // mandatory: a message no queue takes comes back here (before its ack) instead of vanishing.
  channel.on('return', (msg) => { returned = msg.fields.replyText; });
  channel.on('error', () => {});  // a channel error also fails the confirm below, which reports it
  await new Promise((resolve, reject) => {
    channel.publish(EXCHANGE, routingKey, Buffer.from(JSON.stringify(body), 'utf8'), {
      persistent: true, contentType: 'application/json', contentEncoding: 'utf-8', mandatory: true, ...options,
    }, (err) => (err ? reject(new Error('nacked by the broker')) : resolve()));
  });
  if (returned) throw new Error(`unroutable (${returned}): is the worker's announcements queue declared?`);
  clearTimeout(timer);
  console.log(`announce: confirmed ${routingKey} ${args.id}`);
  await connection.close();
}

main().catch((err) => fail(1, `not confirmed: ${err.message}`));
