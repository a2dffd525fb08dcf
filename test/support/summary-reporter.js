/**
 * Prints the plain closing line CI reads ("N passed, N failed, N skipped") after jest's own summary, and the ten
 * slowest test files with their time (docs/layout.md lists them, to say where the suite's time goes).
 */
const { relative } = require('node:path');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = results;
    const slowest = results.testResults
      .map((r) => ({ file: relative(process.cwd(), r.testFilePath), s: (r.perfStats.end - r.perfStats.start) / 1000 }))
      .sort((a, b) => b.s - a.s)
      .slice(0, 10);
    if (slowest.length > 1) {
      process.stdout.write('\nslowest test files:\n');
      for (const { file, s } of slowest) process.stdout.write(`  ${s.toFixed(1).padStart(6)} s  ${file}\n`);
    }
    process.stdout.write(
      `\njest: ${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped\n`,
    );
  }
}
module.exports = SummaryReporter;
