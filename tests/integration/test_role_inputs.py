"""The roles refuse what would weaken the fleet before they change anything."""

import os

import yaml
from wgtest import run_role

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(REPO, "inventories", "example", "group_vars", "all")


def example_vars():
    """The example inventory's variables, as a user copies them (its Jinja value rendered by hand)."""
    found = {}
    for name in sorted(os.listdir(EXAMPLE)):
        with open(os.path.join(EXAMPLE, name)) as handle:
            found.update(yaml.safe_load(handle))
    found["wgnet_additional"] = "Z2VuZXJhdGlvbi0x"  # 'generation-1' | b64encode
    return found


def test_the_example_seed_is_a_placeholder_the_hub_role_refuses(tmp_path):
    state = tmp_path / "state"
    extra = dict(example_vars(), wgnet_state_dir=str(state), wgnet_hub_interface="wgtweak0", wgnet_python=os.sys.executable)
    result, _seconds = run_role("hub", str(tmp_path), extra)
    assert result.returncode != 0
    assert "seed: decodes to only 11 bytes, fewer than the 16 required; make a strong one with: head -c 32 " \
           "/dev/urandom | base64 (the roles accept a weak seed only with wgnet_allow_weak_seed: true)" in result.stdout
    assert not state.exists() and not os.path.exists("/sys/class/net/wgtweak0")
