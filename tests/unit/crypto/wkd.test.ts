/** WKD names (draft-koch-openpgp-webkey-service §3.1): z-base-32 of SHA-1 of the lower-cased local part. */
import t from 'tap';
import { wkdHash, wkdUrls, zbase32 } from '../../../server/crypto/wkd.js';
import { domainOfHost } from '../../../server/crypto/wkd-publish.js';

t.test('the draft example and the URLs of both methods', async (t) => {
  t.equal(wkdHash('Joe.Doe'), 'iy9q119eutrkn8s1mk4r39qejnbu3n5q', 'draft §3.1 example');
  t.equal(zbase32(new Uint8Array([0])), 'yy');
  t.same(wkdUrls('Joe.Doe@Example.ORG'), {
    advanced: 'https://openpgpkey.example.org/.well-known/openpgpkey/example.org/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe',
    direct: 'https://example.org/.well-known/openpgpkey/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe',
  });
  t.equal(domainOfHost('openpgpkey.Example.org:443', false), 'example.org');
  t.equal(domainOfHost('example.org.', false), 'example.org');
});
