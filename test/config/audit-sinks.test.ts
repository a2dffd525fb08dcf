import { loadConfig } from '../../src/config/load';
import { PRODUCTION, problemsOf } from '../helpers/config';

/** AUDIT_SINKS: each URL parsed and checked once at start-up; every bad one named (its password masked). */
test('when AUDIT_SINKS lists each kind of sink, then each is parsed with its format and options', () => {
  const sinks = loadConfig({
    ...PRODUCTION,
    AUDIT_SINKS:
      'https://hec:tok3n@siem.example.com/services/collector?envelope=splunk-hec, http://127.0.0.1:8088/in?format=ocsf,' +
      'syslog+tls://logs.example.com:6514?format=ocsf, syslog+tcp://[::1]:514, file:///var/log/gw/audit.ndjson?max_bytes=2048&keep=3',
  }).audit.sinks;
  expect(sinks.map((s) => [s.id, s.transport, s.format])).toEqual([
    ['https://hec:***@siem.example.com/services/collector?envelope=splunk-hec', 'https', 'native'],
    ['http://127.0.0.1:8088/in?format=ocsf', 'http', 'ocsf'],
    ['syslog+tls://logs.example.com:6514?format=ocsf', 'syslog+tls', 'ocsf'],
    ['syslog+tcp://[::1]:514', 'syslog+tcp', 'native'],
    ['file:///var/log/gw/audit.ndjson?keep=3&max_bytes=2048', 'file', 'native'],
  ]);
  expect(sinks[0]).toMatchObject({ envelope: 'splunk-hec' });
  expect(sinks[4]).toMatchObject({ maxBytes: 2048, keep: 3 });
  expect(loadConfig({}).audit).toMatchObject({ sinks: [], sinkBatchSize: 500, fullVerifyIntervalS: 86_400 });
});

test('when a sink URL is wrong, then start-up names it and why, and never shows its password', () => {
  const problems = problemsOf({
    ...PRODUCTION,
    AUDIT_SINKS: [
      'http://siem.example.com/in',
      'ftp://x.example.com/',
      'https://u:secret-token@siem.example.com/?format=cef',
      'https://siem.example.com/?formt=ocsf',
      'syslog+tls://logs.example.com',
      'file://host/var/log/a',
      'file:///var/log/a?max_bytes=10',
      'not a url',
      'https://siem.example.com/a',
      'https://siem.example.com/a',
    ].join(','),
  });
  expect(problems).toEqual([
    'AUDIT_SINKS: http://siem.example.com/in: http:// is allowed to a loopback address only; use https://',
    'AUDIT_SINKS: ftp://x.example.com/: the scheme must be https, http (loopback only), syslog+tls, syslog+tcp or file',
    'AUDIT_SINKS: https://u:***@siem.example.com/?format=cef: format must be native or ocsf',
    'AUDIT_SINKS: https://siem.example.com/?formt=ocsf: unknown option formt for a https sink',
    'AUDIT_SINKS: syslog+tls://logs.example.com: a syslog sink is syslog+tls://host:port or syslog+tcp://host:port',
    'AUDIT_SINKS: file://host/var/log/a: a file sink is file:///absolute/path/to/file',
    'AUDIT_SINKS: file:///var/log/a?max_bytes=10: max_bytes must be a whole number of at least 1024',
    'AUDIT_SINKS: not a URL: not a url',
    'AUDIT_SINKS: https://siem.example.com/a is listed twice',
  ]);
  expect(problems.join('\n')).not.toContain('secret-token');
  expect(problemsOf({ ...PRODUCTION, AUDIT_FULL_VERIFY_INTERVAL_S: '4' })).toHaveLength(1);
});
