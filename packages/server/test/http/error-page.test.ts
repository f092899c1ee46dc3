/**
 * GET /docs/errors: the page every problem's `type` points at. One anchor per catalogue code (so
 * `/docs/errors#lease_lost` lands), the explanations of docs/errors.md, nothing external, text
 * escaped; and the API reference at /docs still answers beside it.
 */
import Fastify from 'fastify';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ERROR_CATALOGUE, TasklaneError, type ErrorCode } from '../../src/domain/errors.js';
import { problemOf } from '../../src/http/problem.js';
import { errorPageRoutes } from '../../src/http/routes/error-page.js';
import { makeHarness, type Harness } from '../helpers/http-harness.js';

const CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(() => h.cleanup());

/** The text of the element whose id is `id`, up to the next section. */
function sectionOf(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}">`);
  return start === -1 ? '' : html.slice(start, html.indexOf('</section>', start));
}

describe('GET /docs/errors', () => {
  test('is an HTML page, without a key, with an anchor for each problem type of the catalogue', async () => {
    const res = await h.call(null, 'GET', '/docs/errors');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    for (const code of CODES) {
      const fragment = problemOf(new TasklaneError(code), 'r').type.split('#')[1] ?? '';
      expect(fragment, code).toBe(code.toLowerCase());
      const section = sectionOf(res.body, fragment);
      expect(section, `no element with id="${fragment}"`).not.toBe('');
      expect(section).toContain(`${ERROR_CATALOGUE[code].status} `);
    }
    expect(res.body.match(/<section id="/g)).toHaveLength(CODES.length);
  });

  test("shows each code's title and its explanation from docs/errors.md", async () => {
    const { body } = await h.call(null, 'GET', '/docs/errors');
    const leaseLost = sectionOf(body, 'lease_lost');
    expect(leaseLost).toContain('409 Conflict · The lease is not the current one');
    expect(leaseLost).toContain('<strong>Client (worker):</strong> stop working on the task');
    // The catalogue's status replaces the doc's own line, and the doc's other docs are not links.
    expect(leaseLost).not.toContain('Status:');
    expect(sectionOf(body, 'forbidden')).toContain('see the scopes in api.md.');
    expect(body).toContain('<h2>The problem body</h2>');
  });

  test('loads and runs nothing: a strict Content-Security-Policy, no script, no external asset', async () => {
    const res = await h.call(null, 'GET', '/docs/errors');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    // The one inline style is allowed by its hash, so the page is not left unstyled.
    const style = /<style>([\s\S]*?)<\/style>/.exec(res.body)?.[1] ?? '';
    expect(style).not.toBe('');
    expect(csp).toContain(`style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(res.body).not.toMatch(/<script|<link|<img|<iframe|\ssrc=/i);
    for (const [, href] of res.body.matchAll(/href="([^"]*)"/g)) expect(href).toMatch(/^(#|\/(?!\/))/);
  });

  test('escapes the markdown it renders: raw HTML is text, script links are dropped', async () => {
    const app = Fastify();
    await app.register(errorPageRoutes, {
      markdown: [
        '# Errors',
        'Intro <script>alert(1)</script> & <b onclick="x()">bold</b>',
        '## Codes',
        '### LEASE_LOST',
        '**Status:** 409',
        '**When:** [click](javascript:alert(1)) or [see](#not_found) <img src=x onerror=alert(2)>',
      ].join('\n'),
    });
    const { body } = await app.inject({ method: 'GET', url: '/docs/errors' });
    await app.close();
    expect(body).not.toMatch(/<script|<b |<img|javascript:/i);
    expect(body).toContain('Intro &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b onclick=');
    expect(sectionOf(body, 'lease_lost')).toContain('click or <a href="#not_found">see</a>');
    // A code the doc does not explain yet still has its anchor, status and title.
    expect(sectionOf(body, 'not_found')).toContain('404 Not Found · No such resource');
  });

  test('leaves the API reference at /docs working', async () => {
    let res = await h.call(null, 'GET', '/docs');
    for (let hops = 0; hops < 3 && res.statusCode >= 300 && res.statusCode < 400; hops++) {
      res = await h.call(null, 'GET', new URL(String(res.headers.location), 'http://x/docs/').pathname);
    }
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/swagger-ui/i);
    const json = await h.call(null, 'GET', '/docs/json');
    expect(json.statusCode).toBe(200);
    expect(json.json<{ openapi: string }>().openapi).toBe('3.1.0');
    expect((await h.call(null, 'GET', '/docs/static/swagger-ui.css')).statusCode).toBe(200);
  });
});
