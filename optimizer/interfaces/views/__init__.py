"""The web app's pages, one module each; every one renders from the session and the library's answers."""
