// Realistic tasks for the dashboard's screenshots and browser tests: a project, several types, every
// status, progress and steps, a list with dependencies, labels and metadata. Reached the way the
// lifecycle reaches them: created, claimed by a worker, heartbeats, completed or failed.
import { TasklaneClient } from '@tasklane/sdk';

const minutes = (n) => n * 60_000;

/**
 * Seeds the org of `key`; answers the ids the tests and screenshots use. With `at`, a function that
 * sets the server's clock `m` minutes back (scripts/test-server.mjs, shiftedClock), each step happens
 * when it would have: finished work days ago, the release this morning, claims minutes ago. Every
 * lease is renewed within its 30 minutes of the present, so none lapses when the clock comes back.
 */
export async function seed(url, key, { at = async () => undefined } = {}) {
  const c = new TasklaneClient({ url, key });
  await at(4 * 24 * 60);
  await c.projects.create({ key: 'OPS', name: 'Operations' });
  const mk = (body) => c.tasks.create({ projectId: 'OPS', ...body });
  const claim = (t, worker) => c.workers.claimOne(t.id, { workerId: worker, leaseMs: minutes(30) });
  const beat = (t, leaseId, progress, progressMessage, steps = []) =>
    c.workers.heartbeat(t.id, { leaseId, progress, progressMessage, steps: steps.map((message) => ({ message })) });

  // Finished work, oldest first.
  const done = [
    ['email.send', 'Send March invoices to Acme Corp', { to: 'billing@acme.example', invoices: 14 }, { sent: 14 }],
    [
      'report.generate',
      'Generate Q1 revenue report',
      { quarter: '2026-Q1', format: 'pdf' },
      { pages: 23, url: 's3://reports/q1.pdf' },
    ],
    ['invoice.sync', 'Sync Stripe invoices to the ledger', { since: '2026-03-01' }, { synced: 312, skipped: 3 }],
    [
      'video.transcode',
      'Transcode onboarding video (1080p)',
      { src: 'onboarding.mov', preset: '1080p' },
      { bytes: 48211202 },
    ],
    ['crawl.fetch', 'Crawl docs.example.com sitemap', { url: 'https://docs.example.com/sitemap.xml' }, { pages: 1840 }],
  ];
  for (const [i, [type, title, input, result]] of done.entries()) {
    await at((4 - i * 0.6) * 24 * 60);
    const t = await mk({ type, title, input, labels: ['routine'] });
    const held = await claim(t, 'worker-eu-1');
    await c.workers.complete(t.id, { leaseId: held.lease.id, result });
  }
  await at(26 * 60);
  const failing = await mk({
    type: 'email.send',
    title: 'Send password reset to j.doe@example.com',
    input: { to: 'j.doe@example.com', template: 'reset' },
    maxRetries: 0,
    labels: ['auth'],
  });
  const fh = await claim(failing, 'worker-eu-2');
  await c.workers.fail(failing.id, {
    leaseId: fh.lease.id,
    error: { code: 'SMTP_REJECTED', message: '550 5.1.1 The email account does not exist' },
    retryable: false,
  });
  await at(20 * 60);
  const canceled = await mk({ type: 'report.generate', title: 'Generate February churn report (superseded)' });
  await c.tasks.cancel(canceled.id, { reason: 'superseded by the Q1 report' });

  await at(5 * 60);
  const review = await mk({
    type: 'agent.research',
    title: 'Research competitor pricing pages',
    description: 'Summarise pricing tiers of the five main competitors, with links.',
    input: { competitors: ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli'] },
    requiresReview: true,
    assignee: 'research-agent',
    labels: ['agent', 'pricing'],
  });
  await at(4 * 60);
  const rh = await claim(review, 'research-agent');
  await beat(review, rh.lease.id, 1, 'Draft ready for review', ['Visited 5 pricing pages', 'Wrote the summary']);
  await c.workers.complete(review.id, {
    leaseId: rh.lease.id,
    result: { summary: 'Two competitors raised prices in March.' },
  });

  await at(3 * 60);
  await mk({
    type: 'video.transcode',
    title: 'Transcode webinar recording (4K)',
    input: { src: 'webinar.mov' },
    start: false,
  });

  // A release list: build → (tests, pentest) → deploy.
  await at(95);
  const listId = 'release-2026-03';
  const [build, tests, pentest, deploy] = await c.tasks.createBatch({
    tasks: [
      { ref: 'build', type: 'ci.build', title: 'Build release 2026.03', listId, projectId: 'OPS', labels: ['release'] },
      {
        ref: 'tests',
        type: 'ci.test',
        title: 'Run the integration suite',
        listId,
        projectId: 'OPS',
        dependsOn: ['build'],
        labels: ['release'],
      },
      {
        ref: 'pentest',
        type: 'pentest.run',
        title: 'Nightly pentest of api.example.com',
        description: 'Authenticated scan of every public endpoint; stop on a critical finding.',
        input: { target: 'https://api.example.com', depth: 'full', auth: { kind: 'oauth', scope: 'read:all' } },
        listId,
        projectId: 'OPS',
        dependsOn: ['build'],
        assignee: 'scanner-pool',
        labels: ['security', 'nightly', 'release'],
        metadata: { region: 'eu-west-1', requestedBy: 'ana@example.com', ticket: 'SEC-118' },
        priority: 50,
      },
      {
        ref: 'deploy',
        type: 'deploy.rollout',
        title: 'Roll out 2026.03 to production',
        listId,
        projectId: 'OPS',
        dependsOn: ['tests', 'pentest'],
        labels: ['release'],
      },
    ],
  });
  const bh = await claim(build, 'ci-runner-3');
  await at(71);
  await c.workers.complete(build.id, { leaseId: bh.lease.id, result: { artifact: 'tasklane-2026.03.tar.gz' } });

  // Queued work, newest last.
  for (const [i, [type, title, labels]] of [
    ['email.send', 'Send the weekly digest to 2,400 subscribers', ['newsletter']],
    ['crawl.fetch', 'Crawl blog.example.com for broken links', ['seo']],
    ['invoice.sync', 'Sync PayPal payouts to the ledger', ['finance']],
    ['report.generate', 'Generate the on-call handover report', ['ops']],
  ].entries()) {
    await at(50 - i * 6);
    await mk({ type, title, labels });
  }

  await at(30);
  const ph = await claim(pentest, 'scanner-07');
  const th = await claim(tests, 'ci-runner-1');
  await at(22);
  await beat(pentest, ph.lease.id, 0.18, 'Discovering endpoints', [
    'Resolved api.example.com to 3 addresses',
    'Authenticated with OAuth client scanner-07',
  ]);
  await at(7);
  await beat(pentest, ph.lease.id, 0.64, 'Scanning 412 of 640 endpoints', [
    'Found 640 endpoints in the OpenAPI document',
    'No critical finding so far; 2 low-severity headers',
  ]);
  await at(4);
  await beat(tests, th.lease.id, 0.35, '148 of 420 tests passed');

  await at(2);
  const transcode = await mk({
    type: 'video.transcode',
    title: 'Transcode product demo (720p)',
    input: { src: 'demo.mov', preset: '720p' },
  });
  const vh = await claim(transcode, 'gpu-worker-2');
  await at(1);
  await beat(transcode, vh.lease.id, 0.82, 'Encoding pass 2 of 2');
  await at(0);
  return { featured: pentest.id, listId, review: review.id, failed: failing.id, deploy: deploy.id };
}
