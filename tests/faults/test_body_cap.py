"""An answer too large to be Ion's is refused having read little more than MAX_BODY of it.

Over a real socket, because what is read and when depends on ``Content-Length`` (or its
absence) and on how much each read asks the socket for, which a mocked answer hides.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest
from faults import fake_ion
from faults.fake_ion import PROFILE_PATH, TIMEOUT

from ion_oauth import transport
from ion_oauth.exceptions import IonResponseError

#: 64 times what this site reads: reading it whole would show in the memory it takes.
HUGE = 64 * transport.MAX_BODY


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "until-close"])
def test_a_huge_answer_is_refused_holding_little_more_than_max_body(ion: Any, with_length):
    ion.replies[PROFILE_PATH] = fake_ion.oversized(HUGE, with_length=with_length)

    tracemalloc.start()
    try:
        with pytest.raises(IonResponseError) as caught:
            transport.send("GET", ion.url + PROFILE_PATH, what="profile", timeout=TIMEOUT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert str(caught.value) == (
        "Ion sent an unexpectedly large profile response. Please try again later."
    )
    assert peak < 4 * transport.MAX_BODY
