"""The one error type for bad input: a message naming the field and the problem."""


class InputError(ValueError):
    """Bad configuration or data; the CLI prints it as one line and exits with code 2."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
