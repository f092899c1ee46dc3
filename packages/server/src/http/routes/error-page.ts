/**
 * GET /docs/errors: the error catalogue as a page, so that a problem's `type`
 * (`/docs/errors#lease_lost`) lands on its code. Codes, statuses and titles come from
 * ERROR_CATALOGUE, so every code has its anchor; the explanations come from docs/errors.md (one
 * `### CODE` section per code, kept in step with the catalogue by a test), rendered once at start.
 * The page is self-contained: no script, no external asset, its one style allowed by hash.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { Marked, type Tokens } from 'marked';
import { ERROR_CATALOGUE, type ErrorCode } from '../../domain/errors.js';
import { documented, header } from '../openapi-answers.js';

/** The repository's docs/errors.md, from src/http/routes and dist/http/routes alike. */
const ERRORS_DOC = new URL('../../../../../docs/errors.md', import.meta.url);

export interface ErrorPageOptions {
  /** The markdown to explain the codes with (default: docs/errors.md; null: none, titles only). */
  markdown?: string | null;
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fff}
main{max-width:52rem;margin:0 auto;padding:1rem 1.5rem 4rem}
code,pre{font-family:ui-monospace,monospace;font-size:.9em;background:#f3f4f6;border-radius:4px}
code{padding:0 .2em}pre{padding:.75rem;overflow-x:auto}pre code{padding:0}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
section{border-top:1px solid #d0d7de;margin-top:2rem}section:target{background:#fff8c5}
.meta{color:#57606a;margin-top:-.5rem}a{color:#0550ae}`;

/** The Content-Security-Policy of the page: nothing may load or run but its own style. */
const CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const errorPageSchema = documented('GET', {
  schema: {
    tags: ['system'],
    summary: "The error catalogue, as a page: where every problem's `type` points",
    response: {
      200: {
        description: 'The page, self-contained',
        headers: {
          'Content-Security-Policy': header(Type.String(), "Nothing may load or run but the page's own style"),
          'Cache-Control': header(Type.Literal('public, max-age=300'), 'The page changes only with the server'),
        },
        content: { 'text/html': { schema: Type.String() } },
      },
    },
  },
});

export const errorPageRoutes: FastifyPluginAsync<ErrorPageOptions> = async (app, opts) => {
  const page = renderErrorPage(opts.markdown === undefined ? readErrorsDoc() : opts.markdown);
  app.get('/docs/errors', errorPageSchema, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'public, max-age=300')
      .send(page),
  );
};

export default errorPageRoutes;

/** docs/errors.md, or null where the server runs without the repository's docs beside it. */
function readErrorsDoc(): string | null {
  try {
    return readFileSync(ERRORS_DOC, 'utf8');
  } catch {
    return null;
  }
}

export function renderErrorPage(markdown: string | null): string {
  const doc = markdown === null ? { intro: '', sections: new Map<string, string>() } : splitDoc(markdown);
  const codes = Object.keys(ERROR_CATALOGUE) as ErrorCode[];
  const index = codes
    .map((code) => {
      const { status, title } = ERROR_CATALOGUE[code];
      return `<tr><td><a href="#${anchor(code)}"><code>${escapeHtml(code)}</code></a></td><td>${status}</td><td>${escapeHtml(title)}</td></tr>`;
    })
    .join('\n');
  const sections = codes
    .map((code) => {
      const { status, title } = ERROR_CATALOGUE[code];
      const text = doc.sections.get(code);
      const body = text === undefined ? '<p>No explanation yet.</p>' : render(text);
      return (
        `<section id="${anchor(code)}">\n<h3><a href="#${anchor(code)}">${escapeHtml(code)}</a></h3>\n` +
        `<p class="meta">${status} ${escapeHtml(STATUS_CODES[status] ?? '')} · ${escapeHtml(title)}</p>\n${body}</section>`
      );
    })
    .join('\n');
  const missing = markdown === null ? '<p>The explanations of the codes are in docs/errors.md.</p>\n' : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tasklane errors</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Tasklane errors</h1>
<p>Every error answer's <code>type</code> links to its code on this page. The API reference is at <a href="/docs">/docs</a>.</p>
<table>
<thead><tr><th>code</th><th>status</th><th>title</th></tr></thead>
<tbody>
${index}
</tbody>
</table>
${missing}${render(doc.intro)}
<h2>Codes</h2>
${sections}
</main>
</body>
</html>
`;
}

/** `LEASE_LOST` → `lease_lost`, the fragment of a problem's `type`. */
const anchor = (code: string) => escapeHtml(code.toLowerCase());

/**
 * The doc's text outside the code sections (less its title and the `## Codes` heading, which the
 * page has its own of), and each `### CODE` section (the same rule as the doc's test) less its
 * `**Status:**` line: the catalogue's status is shown instead.
 */
function splitDoc(markdown: string): { intro: string; sections: Map<string, string> } {
  const intro: string[] = [];
  const sections = new Map<string, string[]>();
  let into = intro;
  for (const line of markdown.split('\n')) {
    const code = /^### ([A-Z][A-Z0-9_]*)\s*$/.exec(line)?.[1];
    if (code !== undefined) {
      into = [];
      sections.set(code, into);
    } else if (/^#{1,3} /.test(line)) {
      into = intro;
      if (!/^(# |## Codes\s*$)/.test(line)) intro.push(line);
    } else if (!/^\*\*Status:\*\*/.test(line)) {
      into.push(line);
    }
  }
  return {
    intro: intro.join('\n'),
    sections: new Map([...sections].map(([code, lines]) => [code, lines.join('\n')])),
  };
}

const markdownRenderer = new Marked({
  gfm: true,
  renderer: {
    // Raw HTML in the markdown is shown as text, never passed through.
    html({ text }: Tokens.HTML | Tokens.Tag) {
      return escapeHtml(text);
    },
    // Links to this page, the server, or the web stay links; links to the repository's other
    // docs (`api.md#…`), which the server does not serve, keep only their text.
    link({ href, tokens }: Tokens.Link) {
      const text = this.parser.parseInline(tokens);
      return /^(#|\/(?!\/)|https?:\/\/)/.test(href) ? `<a href="${escapeHtml(href)}">${text}</a>` : text;
    },
    image({ text }: Tokens.Image) {
      return escapeHtml(text);
    },
  },
});

function render(markdown: string): string {
  return markdownRenderer.parse(markdown, { async: false });
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
