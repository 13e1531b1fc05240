// deskguard console, the auditor's record page: check the record's inclusion proof in the browser.
// The server hands over, in the #proof-data JSON block, the record's canonical bytes (RFC 8785 text),
// its index, the audit path and the signed checkpoint (a C2SP signed note: origin, size, base64 root).
// This script trusts none of the server's conclusions: it recomputes the leaf hash
// SHA-256(0x00 || record) and walks the RFC 9162 section 2.1.3.2 path with WebCrypto, node hashes
// SHA-256(0x01 || left || right), up to the root written in the checkpoint, and says whether they meet.
(function () {
  "use strict";
  var data = document.getElementById("proof-data");
  var verdict = document.getElementById("proof-verdict");
  var detail = document.getElementById("proof-detail");
  if (!data || !verdict) { return; }

  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function fromHex(text) {
    if (!/^([0-9a-f]{2})*$/.test(text)) { throw new Error("not hexadecimal: " + text); }
    var out = new Uint8Array(text.length / 2);
    for (var i = 0; i < out.length; i++) { out[i] = parseInt(text.substr(i * 2, 2), 16); }
    return out;
  }
  function fromBase64(text) {
    var raw = atob(text), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }
  function concat(prefix, parts) {
    var size = 1 + parts.reduce(function (n, p) { return n + p.length; }, 0);
    var out = new Uint8Array(size), at = 1;
    out[0] = prefix;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }
  function sha256(bytes) {
    return crypto.subtle.digest("SHA-256", bytes).then(function (d) { return new Uint8Array(d); });
  }
  function leafHash(bytes) { return sha256(concat(0, [bytes])); }
  function nodeHash(left, right) { return sha256(concat(1, [left, right])); }

  // RFC 9162 2.1.3.2: verify an inclusion proof; resolves to the root it leads to.
  async function rootFromPath(leaf, index, size, path) {
    if (!(index >= 0 && index < size)) { throw new Error("index " + index + " is not in a tree of size " + size); }
    var fn = index, sn = size - 1, r = leaf;
    for (var i = 0; i < path.length; i++) {
      var p = path[i];
      if (sn === 0) { throw new Error("the path is longer than a tree of size " + size + " needs"); }
      if ((fn & 1) === 1 || fn === sn) {
        r = await nodeHash(p, r);
        while (fn !== 0 && (fn & 1) === 0) { fn >>= 1; sn >>= 1; }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1; sn >>= 1;
    }
    if (sn !== 0) { throw new Error("the path is shorter than a tree of size " + size + " needs"); }
    return r;
  }

  function checkpointRoot(note, size) {
    var lines = note.split("\n");  // origin, size, base64 root, (extensions), blank, signatures
    if (lines.length < 3 || String(size) !== lines[1]) {
      throw new Error("the checkpoint is not of size " + size);
    }
    return fromBase64(lines[2]);
  }

  function show(state, text) {
    verdict.textContent = verdict.getAttribute("data-" + state);
    verdict.className = "verdict " + (state === "verified" ? "ok" : state === "checking" ? "muted" : "error");
    verdict.setAttribute("data-state", state);
    if (detail) { detail.textContent = text || ""; }
  }

  async function check() {
    if (!window.crypto || !crypto.subtle) { show("unsupported"); return; }
    show("checking");
    var given = JSON.parse(data.textContent);
    var leaf = await leafHash(new TextEncoder().encode(given.canonical));
    if (hex(leaf) !== given.leaf_hash) {
      show("failed", "leaf " + hex(leaf) + " != " + given.leaf_hash);
      return;
    }
    var root = await rootFromPath(leaf, given.index, given.tree_size, given.proof.map(fromHex));
    var signed = checkpointRoot(given.checkpoint, given.tree_size);
    if (hex(root) !== hex(signed)) {
      show("failed", "root " + hex(root) + " != " + hex(signed));
      return;
    }
    show("verified", "SHA-256 root " + hex(root));
  }

  check().catch(function (error) { show("failed", String(error && error.message || error)); });
})();
