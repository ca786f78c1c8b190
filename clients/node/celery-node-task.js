#!/usr/bin/env node
// The course's way, with celery-node: client.sendTask('app.bot.tasks.announce', [], kwargs). celery-node
// publishes to the default exchange with routing key = its queue name and declares that queue (durable, no
// arguments), so it is pointed at the `announcements` queue itself. No publisher confirm: it cannot tell
// whether the broker took the task. docs/announcements.md says where this works and where it cannot.
//   CELERY_BROKER_URL=amqp://user:pass@host/vhost node celery-node-task.js --channel C0123 --text TEXT --id ID
'use strict';
const crypto = require('node:crypto');
const { parseArgs } = require('node:util');
const celery = require('celery-node');

const { values } = parseArgs({ options: { channel: { type: 'string' }, text: { type: 'string' }, id: { type: 'string' } } });
const url = process.env.CELERY_BROKER_URL || process.env.CLOUDAMQP_URL;
if (!url || !values.channel || !values.text || !values.id) {
  console.error('usage: CELERY_BROKER_URL=amqp://... celery-node-task.js --channel C0123 --text TEXT --id ID');
  process.exit(2);
}
const client = celery.createClient(url, url, 'announcements');
const kwargs = { id: values.id, channel: values.channel, text: values.text, thread_ts: null };
// client.sendTask(name, args, kwargs) publishes only after an un-awaited readiness check and returns no
// promise for the publish, so a script that then disconnects can lose it: these are sendTask's own steps
// (celery-node 0.5.9, dist/app/client.js), awaited.
const task = client.createTaskMessage(crypto.randomUUID(), 'app.bot.tasks.announce', [], kwargs);
client.isReady()
  .then(() => client.broker.publish(task.body, '', client.conf.CELERY_QUEUE, task.headers, task.properties))
  .then(() => client.disconnect())
  .then(() => console.log(`celery-node: sent app.bot.tasks.announce ${values.id} (no confirm: celery-node has none)`))
  .catch((err) => { console.error(`celery-node: ${err.message}`); process.exit(1); });
