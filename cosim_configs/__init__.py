"""Example scenarios shipped with twin (installed as ``twin.examples``; ``twin init DIR``
copies them into a folder of the user's)."""
