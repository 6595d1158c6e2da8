/* admin: placeholder until implemented */
