"""``[compute]`` in the workspace file: defaults, and a one-line error naming the key for every
wrong value; the Ray engine asks for Ray only where it is used."""

from __future__ import annotations

import pytest

from activelabel.config import CONFIG_NAME, Config, load_config, save_config
from activelabel.errors import ConfigError


def write(tmp_path, compute: str):
    save_config(tmp_path, Config())
    path = tmp_path / CONFIG_NAME
    path.write_text(path.read_text(encoding="utf-8").split("[compute]")[0] + compute)
    return tmp_path


def test_defaults_score_locally(tmp_path):
    config = load_config(write(tmp_path, ""))
    assert (config.compute.engine, config.compute.address) == ("local", "local")


@pytest.mark.parametrize(
    "address", ["local", "auto", "ray://10.0.0.5:10001", "127.0.0.1:6379", "head.example:6379"]
)
def test_ray_addresses(tmp_path, address):
    text = f'[compute]\nengine = "ray"\naddress = "{address}"\nworkers = 3\n'
    config = load_config(write(tmp_path, text))
    assert (config.compute.engine, config.compute.address, config.compute.workers) == (
        "ray",
        address,
        3,
    )


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('engine = "spark"', "compute.engine"),
        ('address = "ray:/x"', "compute.address"),
        ('address = "somewhere"', "compute.address"),
        ('address = "ray://host:port"', "compute.address"),
        ("workers = 0", "compute.workers"),
        ("gpus_per_worker = -1", "compute.gpus_per_worker"),
        ('workers = "two"', "compute.workers"),
        ('engin = "ray"', "compute.engin"),
    ],
)
def test_wrong_values_name_the_key(tmp_path, line, key):
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, f"[compute]\n{line}\n"))
    message = str(error.value)
    assert key in message and "\n" not in message


@pytest.mark.slow
def test_the_main_job_never_imports_ray():
    import subprocess
    import sys

    code = (
        "import sys, activelabel.loop, activelabel.simulate, activelabel.engine, "
        "activelabel.compute; sys.exit('ray' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
