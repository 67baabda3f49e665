import t from 'tap';
import { tlsVersionOf, transportSignals } from '../../../server/privacy/index.js';

t.test('tlsVersionOf reads the spellings of Node, Postfix, Exim, Google and Microsoft', async (t) => {
  const cases: Array<[string | null, string | null]> = [
    ['TLSv1.3', '1.3'],
    ['TLSv1.2', '1.2'],
    ['version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384', '1.3'],
    ['version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', '1.2'],
    ['TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256', '1.2'],
    ['using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256', '1.3'],
    ['TLSv1', '1.0'],
    ['TLSv1.1', '1.1'],
    ['SSLv3', 'ssl3'],
    ['TLS_AES_256_GCM_SHA384', null],
    ['ESMTP', null],
    ['', null],
    [null, null],
  ];
  for (const [text, version] of cases) t.equal(tlsVersionOf(text), version, String(text));
});

t.test('transportSignals maps the delivering session', async (t) => {
  t.same(transportSignals(null), [], 'unknown transport (an mbox import): nothing');
  t.same(transportSignals({ tls: null, clientIp: '192.0.2.1' }), [{ id: 'NO_TLS', detail: '192.0.2.1' }]);
  t.same(transportSignals({ tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' } }), [
    { id: 'TLS_1_3', detail: 'TLSv1.3 TLS_AES_256_GCM_SHA384' },
  ]);
  t.equal(transportSignals({ tls: { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256' } })[0]?.id, 'TLS_1_2');
  t.same(transportSignals({ tls: { protocol: 'TLSv1', cipher: 'AES128-SHA' } }), [{ id: 'TLS_OLD', detail: '1.0, TLSv1 AES128-SHA' }]);
  t.equal(transportSignals({ tls: { protocol: '', cipher: '' } })[0]?.id, 'TLS_VERSION_UNKNOWN');
});
