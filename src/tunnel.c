/* tunnel: placeholder until implemented */
