"""File storage: uploads, Telegram-style photo sizes, file ids and downloads."""

from __future__ import annotations

import base64
import hashlib
import io
import mimetypes

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import IMAGE_PROCESS_FAILED, WRONG_FILE_ID, ApiError, bad_request
from .models import FileKind, StoredFile

# Telegram's "s", "m", "x" and "y" photo sizes; larger originals are capped at 1280
PHOTO_SIDES = (90, 320, 800, 1280)
_FILE_ID_PREFIX = {"photo": "AgACAgUAAxkBAAI", "document": "BQACAgUAAxkBAAI"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class MediaStore:
    def __init__(self) -> None:
        self.files: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}
        self.photo_sets: dict[str, list[StoredFile]] = {}
        self._counter = 0

    def _store(
        self,
        kind: FileKind,
        data: bytes,
        *,
        name: str = "",
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> StoredFile:
        digest = hashlib.sha256(data).digest()
        file_id = _FILE_ID_PREFIX[kind] + _b64(
            hashlib.sha256(kind.encode() + name.encode() + digest).digest()
        )
        existing = self.files.get(file_id)
        if existing is not None:
            return existing
        extension = (
            ".jpg" if kind == "photo" else (mimetypes.guess_extension(mime_type or "") or "")
        )
        stored = StoredFile(
            file_id=file_id,
            # the unique id depends on content only, as Telegram's does
            file_unique_id="AQAD" + _b64(digest)[:12],
            kind=kind,
            data=data,
            file_path=f"{kind}s/file_{self._counter}{extension}",
            mime_type=mime_type,
            file_name=name or None,
            width=width,
            height=height,
        )
        self._counter += 1
        self.files[file_id] = stored
        self.by_path[stored.file_path] = stored
        return stored

    def store_photo(self, data: bytes) -> list[StoredFile]:
        """Recompress like Telegram does: JPEG, no EXIF, a ladder of sizes."""
        try:
            with Image.open(io.BytesIO(data)) as original:
                image = ImageOps.exif_transpose(original).convert("RGB")
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise bad_request(IMAGE_PROCESS_FAILED) from exc
        width, height = image.size
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        longest = max(width, height)
        sides = [side for side in PHOTO_SIDES if side < longest] + [min(longest, PHOTO_SIDES[-1])]
        sizes: list[StoredFile] = []
        for side in dict.fromkeys(sides):
            copy = image.copy()
            copy.thumbnail((side, side))
            buffer = io.BytesIO()
            copy.save(buffer, "JPEG", quality=87)
            sizes.append(
                self._store(
                    "photo",
                    buffer.getvalue(),
                    mime_type="image/jpeg",
                    width=copy.width,
                    height=copy.height,
                )
            )
        for size in sizes:
            self.photo_sets[size.file_id] = sizes
        return sizes

    def store_document(
        self, data: bytes, *, file_name: str, mime_type: str | None = None
    ) -> StoredFile:
        guessed = mimetypes.guess_type(file_name)[0]
        return self._store(
            "document",
            data,
            name=file_name,
            mime_type=guessed or mime_type or "application/octet-stream",
        )

    def restore(
        self,
        file_id: str,
        data: bytes,
        *,
        kind: FileKind,
        file_unique_id: str | None = None,
        file_name: str = "",
        mime_type: str | None = None,
    ) -> StoredFile:
        """Serve `data` under an id a bot kept from an earlier run of the sandbox.

        Telegram's file ids stay valid; a sandbox starts empty. Whoever starts it again
        (the demo) hands back the files its bot still refers to. A photo is served as one
        size, the one the bot had downloaded.
        """
        existing = self.files.get(file_id)
        if existing is not None:
            return existing
        width = height = None
        if kind == "photo":
            try:
                with Image.open(io.BytesIO(data)) as image:
                    width, height = image.size
            except (UnidentifiedImageError, OSError) as exc:
                raise ValueError(f"file {file_id} is no image") from exc
        extension = ".jpg" if kind == "photo" else (mimetypes.guess_extension(mime_type or "") or "")
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=file_unique_id or "AQAD" + _b64(hashlib.sha256(data).digest())[:12],
            kind=kind,
            data=data,
            file_path=f"{kind}s/file_{self._counter}{extension}",
            mime_type=mime_type or ("image/jpeg" if kind == "photo" else None),
            file_name=file_name or None,
            width=width,
            height=height,
        )
        self._counter += 1
        self.files[file_id] = stored
        self.by_path[stored.file_path] = stored
        if kind == "photo":
            self.photo_sets[file_id] = [stored]
        return stored

    def get(self, file_id: str) -> StoredFile:
        stored = self.files.get(file_id)
        if stored is None:
            raise bad_request(WRONG_FILE_ID)
        return stored

    def reuse_photo(self, file_id: str) -> list[StoredFile]:
        stored = self.get(file_id)
        if stored.kind != "photo":
            raise ApiError(400, "Bad Request: can't use file of type Document as Photo")
        return self.photo_sets[file_id]

    def reuse_document(self, file_id: str) -> StoredFile:
        stored = self.get(file_id)
        if stored.kind == "photo":
            raise ApiError(400, "Bad Request: can't use file of type Photo as Document")
        return stored
