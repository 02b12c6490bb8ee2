"""Security headers on every response."""

from __future__ import annotations

import base64
import hashlib
import html
import re

from flask import Flask, Response

# No inline scripts or styles anywhere; Bootstrap's CSS uses data: URIs for small icons.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


_STYLE_ATTRIBUTE = re.compile(r"""\sstyle\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)


def allow_email_styles(response: Response, *emails_html: str) -> Response:
    """Let the emails shown on this page (in sandboxed frames) keep their inline styles.

    Emails need inline styles for mail clients; the page's policy forbids them, and a frame
    made from ``srcdoc`` inherits that policy. So exactly these style attributes are allowed,
    by hash ('unsafe-hashes' covers attributes, nothing else): no other inline style, and
    still no script at all.
    """
    hashes = set()
    for text in emails_html:
        for double, single in _STYLE_ATTRIBUTE.findall(text or ""):
            value = html.unescape(double or single)
            digest = base64.b64encode(hashlib.sha256(value.encode()).digest()).decode()
            hashes.add(f"'sha256-{digest}'")
    if hashes:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "style-src 'self'", "style-src 'self' 'unsafe-hashes' " + " ".join(sorted(hashes))
        )
    return response


def register(app: Flask) -> None:
    production = bool(app.config.get("PRODUCTION"))

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if production:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
