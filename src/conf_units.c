/* conf_units: placeholder until implemented */
