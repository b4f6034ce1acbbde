"""One module per page of the app; dialogs live in `dialogs`."""
