"""The bundled ``.tl`` files (package data): ``api.tl`` and ``mtproto.tl``."""
