"""A pickled object that runs code when unpickled: the attack the project's readers must refuse."""

MARKER_ENV = "WSSS_TEST_PAYLOAD_RAN"


class Payload:
    """Unpickling this runs ``exec`` through __reduce__; the variable it sets is the proof that code ran."""

    def __reduce__(self):
        return (exec, (f"import os; os.environ[{MARKER_ENV!r}] = '1'",))
