"""Benchmark: derive the keys of a /16 pool (65,534 addresses).

Printed as one table, each way in the same run:
  1. the anchor: module_utils in process with pycryptodome's X25519 (KeyDeriver.derive_many, both cores);
  2. module_utils in process with OpenSSL's X25519 (the cryptography package), as the modules use it;
  3. the wg_derived_key module, one call through ansible-playbook (what users run), in three forms:
     addresses=, pool=, and pool= with public_keys_text (the hub role's), each as a ratio to the anchor;
  4. the article's way: one privkeys.py-style process plus one `wg pubkey`
     per address, timed on a sample and extrapolated to the pool.

Run from the repo root with the venv: .venv/bin/python bench/derive_pool.py
"""

import argparse
import base64
import ipaddress
import os
import platform
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))
from collection_link import link_collection  # noqa: E402

link_collection()

from ansible_collections.wgnet.containers.plugins.module_utils.keys import derive  # noqa: E402
from ansible_collections.wgnet.containers.plugins.module_utils.keys.derive import KeyDeriver  # noqa: E402

# One process per address, as in the article's shell loop: hash, clamp, print.
ARTICLE_STYLE_SCRIPT = r"""
import base64, hashlib, ipaddress, sys
seed, additional, address = sys.argv[1:4]
key = bytearray(hashlib.sha3_256(base64.b64decode(seed) + base64.b64decode(additional)
                                 + ipaddress.ip_address(address).packed).digest())
key[0] &= 248
key[31] = (key[31] & 127) | 64
print(base64.b64encode(bytes(key)).decode())
"""


def pool_addresses(cidr):
    return [str(a) for a in ipaddress.ip_network(cidr).hosts()]


def time_in_process(seed, additional, addresses, pycryptodome=False):
    """derive_many in this process; with ``pycryptodome``, its X25519 instead of OpenSSL's."""
    openssl = derive.X25519PrivateKey
    if pycryptodome:
        derive.X25519PrivateKey = None  # the forked workers inherit the choice
    try:
        start = time.perf_counter()
        keys = KeyDeriver(seed, additional).derive_many(addresses)
        elapsed = time.perf_counter() - start
    finally:
        derive.X25519PrivateKey = openssl
    assert len(keys) == len(addresses)
    return elapsed, keys


def time_module(seed, additional, cidr, workdir, form):
    """Run wg_derived_key in ansible-playbook; return (task seconds, whole run seconds).

    The task time is taken between two timestamps the play records around it,
    so it leaves out ansible-playbook's own start-up.
    """
    count = len(pool_addresses(cidr))
    text = form == "pool, public_keys_text"
    if form == "addresses":
        with open(os.path.join(workdir, "addresses.txt"), "w") as handle:
            handle.write("\n".join(pool_addresses(cidr)))
        argument = "addresses: \"{{ lookup('file', '%s').splitlines() }}\"" % os.path.join(workdir, "addresses.txt")
    else:
        argument = "pool: %s" % cidr
    playbook = os.path.join(workdir, "derive.yml")
    with open(playbook, "w") as handle:
        handle.write(
            "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
            "    - set_fact: {started: \"{{ lookup('pipe', 'date +%%s.%%N') }}\"}\n"
            "    - wgnet.containers.wg_derived_key:\n"
            "        seed: \"{{ lookup('env', 'BENCH_SEED') }}\"\n        additional: '%s'\n        %s\n"
            "        public_keys_text: %s\n"
            "      register: pool\n"
            "    - set_fact: {ended: \"{{ lookup('pipe', 'date +%%s.%%N') }}\"}\n"
            "    - assert: {that: [(pool.public_keys_text.split() if pool.public_keys_text is defined"
            " else pool.derived_keys) | length == %d]}\n"
            "    - copy: {content: \"{{ ended | float - started | float }}\", dest: '%s/task.txt', mode: '0600'}\n"
            % (additional, argument, "true" if text else "false", count, workdir))
    env = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="0", BENCH_SEED=seed)
    start = time.perf_counter()
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                    "-c", "local", playbook], env=env, check=True, stdout=subprocess.DEVNULL)
    whole = time.perf_counter() - start
    with open(os.path.join(workdir, "task.txt")) as handle:
        return float(handle.read()), whole


def time_article_way(seed, additional, addresses, sample):
    script = os.path.join(tempfile.mkdtemp(), "privkeys_style.py")
    with open(script, "w") as handle:
        handle.write(ARTICLE_STYLE_SCRIPT)
    picked = addresses[:sample]
    start = time.perf_counter()
    for address in picked:
        private = subprocess.run([sys.executable, script, seed, additional, address],
                                 check=True, capture_output=True).stdout
        public = subprocess.run(["wg", "pubkey"], input=private, check=True, capture_output=True).stdout
        assert len(public.strip()) == 44
    per_address = (time.perf_counter() - start) / len(picked)
    return per_address * len(addresses), per_address


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", default="10.0.0.0/16")
    parser.add_argument("--sample", type=int, default=200, help="addresses timed for the article's way")
    args = parser.parse_args()
    seed = base64.b64encode(os.urandom(32)).decode()
    additional = base64.b64encode(b"bench").decode()
    addresses = pool_addresses(args.pool)

    print("machine: %s, %d cores, Python %s" % (platform.platform(), os.cpu_count(), platform.python_version()))
    print("pool: %s (%d addresses)" % (args.pool, len(addresses)))
    anchor, slow_keys = time_in_process(seed, additional, addresses, pycryptodome=True)
    print("%-52s %8.2f s" % ("anchor: derive_many in process, pycryptodome X25519", anchor))
    in_process, keys = time_in_process(seed, additional, addresses)
    assert keys == slow_keys, "OpenSSL and pycryptodome disagree"
    print("%-52s %8.2f s  (%.2f x the anchor)" % ("derive_many in process, OpenSSL X25519", in_process,
                                                  in_process / anchor))
    for form in ("addresses", "pool", "pool, public_keys_text"):
        with tempfile.TemporaryDirectory() as workdir:
            task, whole = time_module(seed, additional, args.pool, workdir, form)
        print("%-52s %8.2f s  (whole ansible-playbook run %.2f s, %.2f x the anchor)" % (
            "wg_derived_key %s, the task" % form, task, whole, whole / anchor))
    total, per_address = time_article_way(seed, additional, addresses, args.sample)
    print("%-52s %8.2f s  (%.1f ms/address, %d sampled)" % (
        "article's way: privkeys.py-style + wg pubkey, extrapolated", total, per_address * 1000, args.sample))


if __name__ == "__main__":
    main()
