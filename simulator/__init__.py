"""A faithful offline fake of Africa's Talking's Voice API, and the ``atsim`` contract runner."""
