"""The hand-written stub `_ferrofish.pyi` matches the native module: names, members, signatures."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

import ferrofish
from ferrofish import _ferrofish

STUB = Path(ferrofish.__file__).with_name("_ferrofish.pyi")


def stub_tree() -> ast.Module:
    return ast.parse(STUB.read_text())


def stub_classes() -> Dict[str, ast.ClassDef]:
    return {node.name: node for node in stub_tree().body if isinstance(node, ast.ClassDef)}


def stub_functions(cls: ast.ClassDef) -> Dict[str, ast.FunctionDef]:
    return {node.name: node for node in cls.body if isinstance(node, ast.FunctionDef)}


def test_py_typed_ships_with_the_package() -> None:
    assert Path(ferrofish.__file__).with_name("py.typed").exists()
    assert STUB.exists()


def stub_module_functions() -> Dict[str, ast.FunctionDef]:
    return {node.name: node for node in stub_tree().body if isinstance(node, ast.FunctionDef)}


def test_stub_declares_exactly_the_public_names_of_the_module() -> None:
    declared = set(stub_classes()) | set(stub_module_functions())
    stub_all = None
    for node in stub_tree().body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if not node.target.id.startswith("_") or node.target.id == "__version__":
                declared.add(node.target.id)
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["__all__"]:
            stub_all = ast.literal_eval(node.value)
    runtime = {name for name in dir(_ferrofish) if not name.startswith("_")} | {"__version__"}
    assert declared == runtime
    assert stub_all == _ferrofish.__all__


@pytest.mark.parametrize("name", sorted(stub_classes()))
def test_stub_class_members_match_the_runtime_class(name: str) -> None:
    runtime_class = getattr(_ferrofish, name)
    declared = set(stub_functions(stub_classes()[name]))
    runtime_public = {member for member in dir(runtime_class) if not member.startswith("_")}
    assert runtime_public == {member for member in declared if not member.startswith("_")}
    for member in declared:
        assert hasattr(runtime_class, member), member


def parameters(function: ast.FunctionDef) -> List[Tuple[str, str, object]]:
    """(name, kind, default) of each parameter after `self`, as the stub declares them."""
    args = function.args
    positional = args.posonlyargs + args.args
    defaults: List[object] = [inspect.Parameter.empty] * (len(positional) - len(args.defaults))
    defaults += [ast.literal_eval(d) if not isinstance(d, ast.Name) else d.id for d in args.defaults]
    result = [
        (arg.arg, "POSITIONAL_OR_KEYWORD", default)
        for arg, default in zip(positional, defaults)
        if arg.arg not in {"self", "cls"}
    ]
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults):
        default = inspect.Parameter.empty if kw_default is None else ast.literal_eval(kw_default)
        result.append((arg.arg, "KEYWORD_ONLY", default))
    return result


def runtime_parameters(signature: inspect.Signature) -> List[Tuple[str, str, object]]:
    return [
        (p.name, "POSITIONAL_OR_KEYWORD" if p.kind is p.POSITIONAL_ONLY else p.kind.name, p.default)
        for p in signature.parameters.values()
        if p.name != "self"
    ]


def test_client_constructor_signature_matches_the_stub() -> None:
    stub = stub_functions(stub_classes()["RedfishClient"])["__new__"]
    assert runtime_parameters(inspect.signature(ferrofish.RedfishClient)) == parameters(stub)


@pytest.mark.parametrize(
    "method",
    sorted(name for name in stub_functions(stub_classes()["RedfishClient"]) if not name.startswith("_")),
)
def test_client_method_signatures_match_the_stub(method: str) -> None:
    function = stub_functions(stub_classes()["RedfishClient"])[method]
    if any(isinstance(d, ast.Name) and d.id == "property" for d in function.decorator_list):
        # A stub property is a read-only attribute at runtime, not a method.
        assert inspect.isdatadescriptor(getattr(ferrofish.RedfishClient, method)), method
        return
    runtime = inspect.signature(getattr(ferrofish.RedfishClient, method))
    assert runtime_parameters(runtime) == parameters(function)


# Virtual media: every method, constructor and module function of the stub, against the runtime.
VMEDIA_CLASSES = ["VirtualMedia", "VirtualMediaSlot", "BootPhase", "BootReport", "ImageServer", "ImageFetch"]


@pytest.mark.parametrize(
    ("cls", "method"),
    [
        (cls, name)
        for cls in VMEDIA_CLASSES
        for name in stub_functions(stub_classes()[cls])
        if not name.startswith("_") or name == "__new__"
    ],
)
def test_vmedia_signatures_match_the_stub(cls: str, method: str) -> None:
    function = stub_functions(stub_classes()[cls])[method]
    runtime_class = getattr(_ferrofish, cls)
    if any(isinstance(d, ast.Name) and d.id == "property" for d in function.decorator_list):
        assert inspect.isdatadescriptor(getattr(runtime_class, method)), method
        return
    target = runtime_class if method == "__new__" else getattr(runtime_class, method)
    assert runtime_parameters(inspect.signature(target)) == parameters(function)


@pytest.mark.parametrize("name", sorted(stub_module_functions()))
def test_module_function_signatures_match_the_stub(name: str) -> None:
    runtime = inspect.signature(getattr(_ferrofish, name))
    assert runtime_parameters(runtime) == parameters(stub_module_functions()[name])


# IPMI (issue 15): every method and the constructor of the stub, against the runtime; the new
# pin= of RedfishClient is covered by test_client_constructor_signature_matches_the_stub.
IPMI_CLASSES = ["IpmiClient", "ChassisStatus", "DeviceId"]


@pytest.mark.parametrize(
    ("cls", "method"),
    [
        (cls, name)
        for cls in IPMI_CLASSES
        for name in stub_functions(stub_classes()[cls])
        if not name.startswith("_") or name == "__new__"
    ],
)
def test_ipmi_signatures_match_the_stub(cls: str, method: str) -> None:
    function = stub_functions(stub_classes()[cls])[method]
    runtime_class = getattr(_ferrofish, cls)
    if any(isinstance(d, ast.Name) and d.id == "property" for d in function.decorator_list):
        assert inspect.isdatadescriptor(getattr(runtime_class, method)), method
        return
    target = runtime_class if method == "__new__" else getattr(runtime_class, method)
    assert runtime_parameters(inspect.signature(target)) == parameters(function)


def test_mypy_stubtest_finds_the_stub_consistent_with_the_built_module() -> None:
    """mypy's stubtest compares every name, signature and default of the stub with the built
    module; it runs here when mypy is installed (scripts/test.sh installs it; CI sets
    ``FERROFISH_REQUIRE_STUBTEST`` so a missing mypy fails instead of skipping)."""
    import importlib.util
    import os
    import subprocess
    import sys

    if importlib.util.find_spec("mypy") is None:
        why = "mypy is not installed (pip install mypy) so stubtest cannot run"
        if os.environ.get("FERROFISH_REQUIRE_STUBTEST"):
            pytest.fail(f"FERROFISH_REQUIRE_STUBTEST is set but {why}")
        pytest.skip(why)
    import tempfile

    package_root = Path(ferrofish.__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="ferrofish-stubtest-") as cache:
        completed = subprocess.run(
            [sys.executable, "-m", "mypy.stubtest", "ferrofish._ferrofish"],
            cwd=package_root,
            # mypy's cache goes to a scratch directory, not into the source tree.
            env={**os.environ, "MYPY_CACHE_DIR": cache},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
            check=False,
        )
    assert completed.returncode == 0, completed.stdout[-6000:]
