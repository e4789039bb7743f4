"""The scorer before it streamed: the oracle the streaming scorer is held against."""
