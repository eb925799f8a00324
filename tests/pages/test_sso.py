"""Single sign-on in the frame: the login route has what it imports."""

from __future__ import annotations

import inspect
import warnings


def test_the_login_route_can_import_what_it_needs():
    """Streamlit's /auth/login and /oauth2callback build their client from Authlib's Starlette
    integration, which needs httpx; without it pressing "Sign in" is a bare Internal Server Error."""
    from streamlit.web.server.starlette import starlette_auth_routes

    assert "from authlib.integrations import starlette_client" in inspect.getsource(
        starlette_auth_routes._create_oauth_client)
    import authlib.deprecate  # noqa: F401 - sets its warnings to "always" when first imported

    with warnings.catch_warnings():  # Authlib asks for httpx2 by now, and still works with httpx
        warnings.simplefilter("ignore", DeprecationWarning)
        from authlib.integrations import starlette_client  # ModuleNotFoundError without httpx

    assert issubclass(starlette_auth_routes._create_streamlit_oauth_class(starlette_client),
                      starlette_client.OAuth)
