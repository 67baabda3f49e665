// The OpenPGP code, loaded the first time a key is needed (never on the first page load): the
// openpgp library from /vendor and Caliopen's core (web/js/pgp/), which takes the library as its
// first argument. One load per page, shared by every caller.
let loading = null;

/** @returns {Promise<{ openpgp: any, core: typeof import('../pgp/index.js') }>} */
export function loadPgp() {
  loading ??= Promise.all([import('/vendor/openpgp.mjs'), import('../pgp/index.js')])
    .then(([openpgp, core]) => ({ openpgp, core }))
    .catch((err) => {
      loading = null; // the next call tries again
      throw err;
    });
  return loading;
}
