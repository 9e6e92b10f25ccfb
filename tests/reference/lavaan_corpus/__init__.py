"""A corpus of lavaan examples a user would paste, fitted by radsem and live by lavaan."""
