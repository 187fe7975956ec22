import pytest

from superalign.errors import UnknownNameError
from superalign.registry import Registry


def test_unknown_name_suggests_close_matches():
    reg = Registry("thing")
    reg.add("bbc-news", 1)
    reg.add("breast-cancer", 2)
    with pytest.raises(UnknownNameError, match="did you mean 'bbc-news'"):
        reg.get("bbc-nwes")


def test_prefix_factory_and_duplicates():
    reg = Registry("thing")
    reg.register_prefix("x", lambda rest: rest.upper())
    assert reg.get("x:abc") == "ABC"
    reg.add("a", 1)
    with pytest.raises(ValueError):
        reg.add("a", 2)
    with pytest.raises(UnknownNameError, match="x:"):
        reg.get("y:abc")
