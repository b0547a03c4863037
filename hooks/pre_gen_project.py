"""Check the answers again when cookiecutter did not prompt (``--replay``, ``cruft update``).

Answers are checked before anything is written: the last key of cookiecutter.json renders
``slipway_check`` (slipway_inputs.py) once every answer is known. A replay file or stored
answers skip that step, so the check runs again while cookiecutter renders this file, in
cookiecutter's own process: a bad answer stops generation with one line
``error: <field>: <rule> (got <value>)`` and cookiecutter removes the project directory.
"""

CHECKS = "{{ cookiecutter | slipway_check }}"
