"""Who the user is: Globus login, the 0600 token store, named targets."""
