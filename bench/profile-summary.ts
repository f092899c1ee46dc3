/**
 * Summarizes a .cpuprofile that bench/get-task.ts --profile wrote (again, or with more rows):
 *   npx tsx bench/profile-summary.ts FILE.cpuprofile REQUESTS [TOP]
 * REQUESTS is how many requests the profiled run served (in the result JSON, profile[].requests).
 */
import { formatProfileSummary, summarizeProfile } from './lib/profile.js';

const [file, requests, top] = process.argv.slice(2);
if (file === undefined || requests === undefined) {
  process.stderr.write('usage: npx tsx bench/profile-summary.ts FILE.cpuprofile REQUESTS [TOP=25]\n');
  process.exit(2);
}
const summary = summarizeProfile(file, Number(requests), Number(top ?? 25));
process.stdout.write(`${formatProfileSummary('CPU profile', summary)}\n`);
